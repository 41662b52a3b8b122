import Foundation
public import LatchkeyCore
public import LatchkeyGateway
public import LatchkeyOAuthClient
public import LatchkeyProviders
public import LatchkeyStorage
import Synchronization

/// The catalog's tools behind the MCP endpoint: those of the tenant's enabled integrations the person granted, run
/// through ``ToolInvoker`` as the person — the console app acting for its end user whose external id is the person's
/// user id, so the person's credentials, rate share, refresh and audit apply. The client's token goes nowhere.
///
/// Names: a tool keeps its catalog name (`github.get_repo`); when two granted integrations of one provider offer it,
/// each copy is named `<integration key>.<catalog name>` (`github-work.github.get_repo`), so names never clash.
public struct GatewayToolSource: MCPToolSource {
    let integrations: IntegrationStore
    let catalog: ProviderCatalog
    let invoker: ToolInvoker
    /// Where each call is logged (kind `tool`, the person as the console app's end user), as `/api/v1/tools/invoke`
    /// calls are; nil logs nothing.
    let requestLog: RequestLogWriter?
    let clock: any LatchkeyClock

    public init(
        integrations: IntegrationStore,
        catalog: ProviderCatalog,
        invoker: ToolInvoker,
        requestLog: RequestLogWriter? = nil,
        clock: any LatchkeyClock = SystemClock()
    ) {
        self.integrations = integrations
        self.catalog = catalog
        self.invoker = invoker
        self.requestLog = requestLog
        self.clock = clock
    }

    public func tools(for principal: MCPPrincipal) async throws -> [MCPTool] {
        let granted = Set(principal.services)
        let usable = try await integrations.integrations.list(tenantID: principal.tenantID)
            .filter { $0.enabled && granted.contains($0.key) }
            .sorted { $0.key < $1.key }
        var perProvider: [String: Int] = [:]
        for integration in usable { perProvider[integration.provider, default: 0] += 1 }
        var result: [MCPTool] = []
        for integration in usable {
            guard let tools = catalog.provider(id: integration.provider)?.tools else { continue }
            let prefixed = (perProvider[integration.provider] ?? 0) > 1
            for tool in tools {
                result.append(
                    MCPTool(
                        name: prefixed ? "\(integration.key).\(tool.name)" : tool.name,
                        title: tool.title,
                        description: tool.description,
                        inputSchema: Self.schema(tool.input),
                        readOnly: tool.readOnly,
                        integration: integration.key,
                        catalogName: tool.name
                    )
                )
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    public func lookup(_ name: String, for principal: MCPPrincipal) async throws -> MCPToolLookup {
        if let tool = try await tools(for: principal).first(where: { $0.name == name }) { return .found(tool) }
        // A catalog tool (or a prefixed copy of one) of an integration this tenant has but the person did not grant.
        var candidates = [name]
        if let dot = name.firstIndex(of: "."), name[name.index(after: dot)...].contains(".") {
            candidates.append(String(name[name.index(after: dot)...]))
        }
        guard let (provider, _) = candidates.lazy.compactMap({ self.catalog.tool(named: $0) }).first else { return .unknown }
        let offering = try await integrations.integrations.list(tenantID: principal.tenantID)
            .filter { $0.enabled && $0.provider == provider.id }
            .map(\.key)
            .sorted()
        return offering.isEmpty ? .unknown : .notGranted(offering)
    }

    public func call(_ tool: MCPTool, arguments: JSONValue?, principal: MCPPrincipal, origin: MCPCallOrigin) async throws -> MCPToolOutcome {
        let caller = CredentialResolver.Caller(
            tenantID: principal.tenantID,
            appID: nil,
            actor: AuditActor(id: "user:\(principal.userID)", ip: origin.ip, userAgent: origin.userAgent)
        )
        let time = clock.now
        let start = ContinuousClock.now
        let used = Mutex<String?>(nil)
        func log(status: Int, errorCode: String?) {
            let elapsed = ContinuousClock.now - start
            requestLog?.record(
                RequestLogEntry(
                    id: NewID.make(),
                    tenantID: principal.tenantID,
                    time: time,
                    kind: .tool,
                    externalUserID: principal.userID,
                    integrationKey: tool.integration,
                    credentialID: used.withLock { $0 },
                    tool: tool.catalogName,
                    status: status,
                    errorCode: errorCode,
                    latencyMilliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                )
            )
        }
        do {
            let target = try await invoker.target(tool: tool.catalogName, integration: tool.integration, tenantID: principal.tenantID) { _ in true }
            let outcome = try await invoker.invoke(
                target,
                .init(input: arguments ?? .object([:]), externalUserID: principal.userID, connectionID: nil, credentialID: nil),
                caller: caller
            ) { credential in used.withLock { $0 = credential.id } }
            log(status: outcome.status, errorCode: nil)
            return .success(outcome.result ?? .null)
        } catch let error as LatchkeyError {
            log(status: error.httpStatus, errorCode: error.code.rawValue)
            if error.code == .invalidRequest, !error.fields.isEmpty {
                return .invalidArguments(
                    message: error.message,
                    fields: error.fields.map { .init(path: Self.argumentPath($0.path), message: $0.message) }
                )
            }
            return .failed(code: error.code.rawValue, message: error.message, link: error.action?.url)
        }
    }

    /// `input.owner` → `owner`: MCP clients send the arguments themselves, not wrapped in `input`.
    static func argumentPath(_ path: String) -> String {
        path.hasPrefix("input.") ? String(path.dropFirst(6)) : path == "input" ? "arguments" : path
    }

    /// The catalog's input schema as JSON.
    static func schema(_ input: ToolInputSchema) -> JSONValue {
        guard let data = try? JSONEncoder().encode(input), let value = JSONValue.parse(data) else {
            return .object(["type": .string("object")])
        }
        return value
    }
}
