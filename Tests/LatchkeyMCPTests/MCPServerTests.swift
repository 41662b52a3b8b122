import LatchkeyMCP
import LatchkeyOAuthClient
import Logging
import Synchronization
import Testing

/// The MCP server logic per revision: the handshake and its negotiation, the stateless 2026-07-28 requests, the tools.
@Suite("MCP server")
struct MCPServerTests {
    static func server(_ source: FakeToolSource = FakeToolSource(), pageSize: Int = 100) -> MCPServer {
        MCPServer(info: .init(name: "latchkey", title: "Latchkey", version: "1.0"), tools: source, pageSize: pageSize, logger: Logger(label: "test"))
    }

    static func request(_ method: String, _ params: [String: JSONValue] = [:], id: JSONRPCID = .number(1)) -> JSONRPCRequest {
        JSONRPCRequest(id: id, method: method, params: params)
    }

    /// `_meta` of a 2026-07-28 request.
    static func meta(_ version: String = "2026-07-28") -> JSONValue {
        .object([
            "io.modelcontextprotocol/protocolVersion": .string(version),
            "io.modelcontextprotocol/clientCapabilities": .object([:]),
        ])
    }

    static func stateless(_ method: String, _ params: [String: JSONValue] = [:], version: String = "2026-07-28") -> JSONRPCRequest {
        var params = params
        params["_meta"] = meta(version)
        return request(method, params)
    }

    @Test(arguments: ["2025-06-18", "2025-11-25"])
    func initializeAgreesToASupportedHandshakeVersion(version: String) throws {
        let (negotiated, reply) = Self.server().initialize(
            Self.request("initialize", ["protocolVersion": .string(version), "capabilities": .object([:])])
        )
        #expect(negotiated.rawValue == version)
        let result = try #require(reply.result)
        #expect(result["protocolVersion"] == .string(version))
        #expect(result["capabilities"]?["tools"] != nil)
        #expect(result["serverInfo"]?["name"] == .string("latchkey"))
        #expect(reply.message["id"] == .integer(1))
    }

    @Test(arguments: ["2024-11-05", "1900-01-01", "2026-07-28"])
    func initializeWithAnotherVersionOffersTheNewestHandshakeVersion(version: String) throws {
        let (negotiated, reply) = Self.server().initialize(Self.request("initialize", ["protocolVersion": .string(version)]))
        #expect(negotiated == .v2025_11_25)
        #expect(reply.result?["protocolVersion"] == .string("2025-11-25"))
    }

    @Test func pingAnswersAnEmptyResultAndAnUnknownMethodIsMethodNotFound() async throws {
        let server = Self.server()
        #expect(await server.handle(Self.request("ping"), version: .v2025_11_25, principal: .alice).result == .object([:]))
        let unknown = await server.handle(Self.request("resources/list"), version: .v2025_11_25, principal: .alice)
        #expect(unknown.error?["code"] == .integer(-32601))
        #expect(unknown.kind == .ok)
    }

    @Test func aStatelessRequestNeedsNoInitializeAndIsMarkedComplete() async throws {
        let reply = await Self.server().handleStateless(Self.stateless("tools/list"), headers: nil, principal: .alice)
        let result = try #require(reply.result)
        #expect(result["resultType"] == .string("complete"))
        #expect(result["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == .string("latchkey"))
        #expect(result["cacheScope"] == .string("private"))
        #expect(result["ttlMs"] != nil)
        #expect(result["tools"]?.arrayCount == 3)
    }

    @Test func serverDiscoverListsTheSupportedVersions() async throws {
        let reply = await Self.server().handleStateless(Self.stateless("server/discover"), headers: nil, principal: .alice)
        let result = try #require(reply.result)
        #expect(result["supportedVersions"] == .array([.string("2026-07-28"), .string("2025-11-25"), .string("2025-06-18")]))
        #expect(result["capabilities"]?["tools"] != nil)
        #expect(result["resultType"] == .string("complete"))
    }

    @Test func anUnsupportedStatelessVersionIsRefusedListingTheSupportedOnes() async throws {
        let reply = await Self.server().handleStateless(Self.stateless("tools/list", version: "2027-01-01"), headers: nil, principal: .alice)
        #expect(reply.kind == .badRequest)
        #expect(reply.error?["code"] == .integer(-32022))
        #expect(reply.error?["data"]?["requested"] == .string("2027-01-01"))
        #expect(reply.error?["data"]?["supported"] == .array([.string("2026-07-28"), .string("2025-11-25"), .string("2025-06-18")]))
    }

    @Test func aStatelessRequestWithoutMetaIsInvalidParams() async throws {
        let reply = await Self.server().handleStateless(
            Self.request("tools/list", ["_meta": .object(["io.modelcontextprotocol/protocolVersion": .string("2026-07-28")])]),
            headers: nil,
            principal: .alice
        )
        #expect(reply.kind == .badRequest)
        #expect(reply.error?["code"] == .integer(-32602))
    }

    @Test func pingIsGoneIn20260728AndAnswersMethodNotFoundAs404() async throws {
        let reply = await Self.server().handleStateless(Self.stateless("ping"), headers: nil, principal: .alice)
        #expect(reply.kind == .notFound)
        #expect(reply.error?["code"] == .integer(-32601))
    }

    @Test func headersThatDisagreeWithTheBodyAreAHeaderMismatch() async throws {
        let server = Self.server()
        let call = Self.stateless("tools/call", ["name": .string("alpha.tool_1")])
        let cases: [MCPRequestHeaders] = [
            .init(protocolVersion: nil, method: "tools/call", name: "alpha.tool_1"),
            .init(protocolVersion: "2025-11-25", method: "tools/call", name: "alpha.tool_1"),
            .init(protocolVersion: "2026-07-28", method: "tools/list", name: "alpha.tool_1"),
            .init(protocolVersion: "2026-07-28", method: "tools/call", name: "alpha.tool_2"),
            .init(protocolVersion: "2026-07-28", method: "tools/call", name: nil),
        ]
        for headers in cases {
            let reply = await server.handleStateless(call, headers: headers, principal: .alice)
            #expect(reply.kind == .badRequest, "\(headers)")
            #expect(reply.error?["code"] == .integer(-32020), "\(headers)")
        }
        // The Base64 form of the name is decoded before comparing.
        let encoded = MCPRequestHeaders(protocolVersion: "2026-07-28", method: "tools/call", name: "=?base64?YWxwaGEudG9vbF8x?=")
        #expect(await server.handleStateless(call, headers: encoded, principal: .alice).kind == .ok)
    }

    @Test func toolsListShowsOnlyGrantedServicesAndPagesWithAnOpaqueCursor() async throws {
        let server = Self.server(FakeToolSource(count: 3), pageSize: 2)
        let first = try #require(await server.handle(Self.request("tools/list"), version: .v2025_06_18, principal: .alice).result)
        #expect(first["tools"]?.arrayCount == 2)
        #expect(first["tools"]?.value(at: "0.name") == .string("alpha.tool_0"))
        #expect(first["tools"]?.value(at: "0.annotations.readOnlyHint") == .bool(true))
        #expect(first["tools"]?.value(at: "1.annotations.readOnlyHint") == .bool(false))
        #expect(first["resultType"] == nil)
        #expect(first["cacheScope"] == nil)
        let cursor = try #require(first["nextCursor"])
        let second = try #require(
            await server.handle(Self.request("tools/list", ["cursor": cursor]), version: .v2025_06_18, principal: .alice).result
        )
        #expect(second["tools"]?.arrayCount == 1)
        #expect(second["tools"]?.value(at: "0.name") == .string("alpha.tool_2"))
        #expect(second["nextCursor"] == nil)
        // No beta tool: beta is not granted.
        #expect(!"\(first)\(second)".contains("beta"))

        let forged = await server.handle(Self.request("tools/list", ["cursor": .string("not-a-cursor")]), version: .v2025_06_18, principal: .alice)
        #expect(forged.error?["code"] == .integer(-32602))
    }

    @Test func toolsCallReturnsTextAndStructuredContent() async throws {
        let source = FakeToolSource(outcome: .success(.object(["id": .integer(7)])))
        let reply = await Self.server(source).handle(
            Self.request("tools/call", ["name": .string("alpha.tool_1"), "arguments": .object(["q": .string("x")])]),
            version: .v2025_11_25,
            principal: .alice
        )
        let result = try #require(reply.result)
        #expect(result["isError"] == .bool(false))
        #expect(result["content"]?.value(at: "0.type") == .string("text"))
        #expect(result["content"]?.value(at: "0.text") == .string(#"{"id":7}"#))
        #expect(result["structuredContent"] == .object(["id": .integer(7)]))
        let calls = source.calls.withLock { $0 }
        #expect(calls.count == 1)
        #expect(calls.first?.0 == "alpha.tool_1")
        #expect(calls.first?.1 == .object(["q": .string("x")]))
        #expect(calls.first?.2 == "alice")
    }

    @Test func anArrayResultIsStructuredContentOnlyFrom20260728() async throws {
        let source = FakeToolSource(outcome: .success(.array([.integer(1)])))
        let old = try #require(
            await Self.server(source).handle(Self.request("tools/call", ["name": .string("alpha.tool_0")]), version: .v2025_11_25, principal: .alice)
                .result
        )
        #expect(old["structuredContent"] == nil)
        let new = try #require(
            await Self.server(source).handleStateless(
                Self.stateless("tools/call", ["name": .string("alpha.tool_0")]),
                headers: nil,
                principal: .alice
            ).result
        )
        #expect(new["structuredContent"] == .array([.integer(1)]))
    }

    @Test func aFailedToolIsAnErrorResultWithItsLink() async throws {
        let link = "https://lk.example/connections"
        let source = FakeToolSource(outcome: .failed(code: "not_connected", message: "Nothing is connected for alpha.", link: link))
        let reply = await Self.server(source).handle(
            Self.request("tools/call", ["name": .string("alpha.tool_0")]),
            version: .v2025_06_18,
            principal: .alice
        )
        let result = try #require(reply.result)
        #expect(result["isError"] == .bool(true))
        #expect(result["content"]?.value(at: "0.text") == .string("Nothing is connected for alpha. \(link)"))
        #expect(result["structuredContent"]?.value(at: "error.url") == .string(link))
    }

    @Test func badArgumentsAreInvalidParamsIn20250618AndAToolErrorLater() async throws {
        let source = FakeToolSource(
            outcome: .invalidArguments(message: "The input is not valid.", fields: [.init(path: "owner", message: "is required")])
        )
        let call = Self.request("tools/call", ["name": .string("alpha.tool_0")])
        let old = await Self.server(source).handle(call, version: .v2025_06_18, principal: .alice)
        #expect(old.error?["code"] == .integer(-32602))
        #expect(old.error?["data"]?.value(at: "fields.0.path") == .string("owner"))
        let new = try #require(await Self.server(source).handle(call, version: .v2025_11_25, principal: .alice).result)
        #expect(new["isError"] == .bool(true))
        #expect(new["content"]?.value(at: "0.text") == .string("The input is not valid.\n- owner: is required"))
    }

    @Test func anUnknownToolIsInvalidParamsAndAnUngrantedOneInsufficientScope() async throws {
        let server = Self.server()
        let unknown = await server.handle(Self.request("tools/call", ["name": .string("nope")]), version: .v2025_11_25, principal: .alice)
        #expect(unknown.error?["code"] == .integer(-32602))
        #expect(unknown.kind == .ok)
        let ungranted = await server.handle(Self.request("tools/call", ["name": .string("beta.tool_0")]), version: .v2025_11_25, principal: .alice)
        guard case .insufficientScope(let description) = ungranted.kind else {
            Issue.record("\(ungranted.kind)")
            return
        }
        #expect(description.contains("beta"))
        let noName = await server.handle(Self.request("tools/call", ["arguments": .object([:])]), version: .v2025_11_25, principal: .alice)
        #expect(noName.error?["code"] == .integer(-32602))
        let badArguments = await server.handle(
            Self.request("tools/call", ["name": .string("alpha.tool_0"), "arguments": .array([])]),
            version: .v2025_11_25,
            principal: .alice
        )
        #expect(badArguments.error?["code"] == .integer(-32602))
    }

    @Test func aFailingSourceIsAnInternalErrorWithoutDetails() async throws {
        struct Broken: MCPToolSource {
            struct Secret: Error {}
            func tools(for principal: MCPPrincipal) async throws -> [MCPTool] { throw Secret() }
            func lookup(_ name: String, for principal: MCPPrincipal) async throws -> MCPToolLookup { throw Secret() }
            func call(_ tool: MCPTool, arguments: JSONValue?, principal: MCPPrincipal, origin: MCPCallOrigin) async throws -> MCPToolOutcome {
                throw Secret()
            }
        }
        let server = MCPServer(info: .init(name: "l", title: "L", version: "1"), tools: Broken(), logger: Logger(label: "test"))
        let reply = await server.handle(Self.request("tools/list"), version: .v2025_11_25, principal: .alice)
        #expect(reply.error?["code"] == .integer(-32603))
        #expect(reply.error?["message"]?.stringValue?.contains("Secret") == false)
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case .array(let items) = self { return items.count }
        return nil
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
