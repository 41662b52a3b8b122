import LatchkeyMCP
import LatchkeyOAuthClient
import Synchronization

/// Tools `fake.tool_0` … for the services `alpha` and `beta`; only the principal's granted services are listed. A call
/// answers what `outcome` says and records its arguments.
final class FakeToolSource: MCPToolSource {
    let count: Int
    let outcome: MCPToolOutcome
    let calls = Mutex<[(String, JSONValue?, String)]>([])

    init(count: Int = 3, outcome: MCPToolOutcome = .success(.object(["ok": .bool(true)]))) {
        self.count = count
        self.outcome = outcome
    }

    func tools(for principal: MCPPrincipal) async throws -> [MCPTool] {
        ["alpha", "beta"].filter(principal.services.contains).flatMap { service in
            (0..<count).map { index in
                MCPTool(
                    name: "\(service).tool_\(index)",
                    title: "Tool \(index)",
                    description: "Does \(index).",
                    inputSchema: .object(["type": .string("object")]),
                    readOnly: index == 0,
                    integration: service,
                    catalogName: "\(service).tool_\(index)"
                )
            }
        }
    }

    func lookup(_ name: String, for principal: MCPPrincipal) async throws -> MCPToolLookup {
        if let tool = try await tools(for: principal).first(where: { $0.name == name }) { return .found(tool) }
        if name.hasPrefix("beta.") || name.hasPrefix("alpha.") { return .notGranted([String(name.prefix { $0 != "." })]) }
        return .unknown
    }

    func call(_ tool: MCPTool, arguments: JSONValue?, principal: MCPPrincipal, origin: MCPCallOrigin) async throws -> MCPToolOutcome {
        calls.withLock { $0.append((tool.name, arguments, principal.userID)) }
        return outcome
    }
}

extension MCPPrincipal {
    static let alice = MCPPrincipal(
        tenantID: "t1",
        userID: "alice",
        clientID: "client-1",
        grantID: "grant-1",
        scopes: ["mcp:tools"],
        services: ["alpha"]
    )
}
