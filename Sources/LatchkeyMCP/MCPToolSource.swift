public import LatchkeyOAuthClient

/// A tool as an MCP client sees it.
public struct MCPTool: Sendable, Equatable {
    /// The name the client calls it by: the catalog name, or `<integration>.<catalog name>` when two granted
    /// integrations of the same provider offer it.
    public var name: String
    public var title: String
    public var description: String
    /// JSON Schema of the arguments.
    public var inputSchema: JSONValue
    public var readOnly: Bool
    /// The integration the tool is called through.
    public var integration: String
    /// The tool's name in the catalog.
    public var catalogName: String

    public init(
        name: String,
        title: String,
        description: String,
        inputSchema: JSONValue,
        readOnly: Bool,
        integration: String,
        catalogName: String
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.readOnly = readOnly
        self.integration = integration
        self.catalogName = catalogName
    }
}

/// What a tool name stands for, for one principal.
public enum MCPToolLookup: Sendable, Equatable {
    case found(MCPTool)
    /// A tool of a service set up on this server that the person did not grant to this client (integration keys).
    case notGranted([String])
    /// No such tool here.
    case unknown
}

/// How a tool call went.
public enum MCPToolOutcome: Sendable, Equatable {
    /// The tool's result.
    case success(JSONValue)
    /// The tool ran but did not do what was asked: what happened, what to do, and where (a connect or reconnect link).
    case failed(code: String, message: String, link: String?)
    /// The arguments do not fit the tool's schema: the message and each field's problem.
    case invalidArguments(message: String, fields: [Field])

    /// One argument's problem.
    public struct Field: Sendable, Equatable {
        public var path: String
        public var message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }
}

/// Who is calling, besides the principal: for the audit trail.
public struct MCPCallOrigin: Sendable, Equatable {
    public var ip: String?
    public var userAgent: String?

    public init(ip: String? = nil, userAgent: String? = nil) {
        self.ip = ip
        self.userAgent = userAgent
    }
}

/// Where the MCP server finds and runs tools: the gateway in the product, a fake in tests.
public protocol MCPToolSource: Sendable {
    /// The tools `principal` may call, in a stable order.
    func tools(for principal: MCPPrincipal) async throws -> [MCPTool]
    /// What `name` stands for, for `principal`.
    func lookup(_ name: String, for principal: MCPPrincipal) async throws -> MCPToolLookup
    /// Runs `tool` with `arguments` as the person.
    func call(_ tool: MCPTool, arguments: JSONValue?, principal: MCPPrincipal, origin: MCPCallOrigin) async throws -> MCPToolOutcome
}
