import LatchkeyMCP
import LatchkeyOAuthClient
import Testing

/// Reading JSON-RPC 2.0 messages: requests, notifications, client responses, and each way a message is refused.
@Suite("JSON-RPC core")
struct JSONRPCTests {
    static func parse(_ text: String) -> Result<JSONRPCMessage, JSONRPCFailure> { JSONRPC.parse(Array(text.utf8)) }

    static func failure(_ text: String) throws -> JSONRPCFailure {
        guard case .failure(let failure) = parse(text) else {
            Issue.record("\(text) was read as a message")
            throw CancellationError()
        }
        return failure
    }

    @Test func aRequestKeepsItsIdStringOrNumber() throws {
        #expect(
            try Self.parse(#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}}"#).get()
                == .request(.init(id: .number(7), method: "tools/list", params: ["cursor": .string("x")]))
        )
        #expect(try Self.parse(#"{"jsonrpc":"2.0","id":"a-1","method":"ping"}"#).get() == .request(.init(id: .string("a-1"), method: "ping")))
    }

    @Test func aMessageWithoutIdIsANotificationAndAResultIsAResponse() throws {
        #expect(
            try Self.parse(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).get()
                == .notification(method: "notifications/initialized", params: [:])
        )
        #expect(try Self.parse(#"{"jsonrpc":"2.0","id":3,"result":{}}"#).get() == .response(id: .number(3)))
        #expect(try Self.parse(#"{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"no"}}"#).get() == .response(id: .number(3)))
    }

    @Test func bodyThatIsNotJSONIsAParseError() throws {
        let failure = try Self.failure(#"{"jsonrpc":"2.0","id":1,"method":"#)
        #expect(failure.error.code == -32700)
        #expect(failure.id == nil)
    }

    @Test func aBatchIsRefusedAsInvalidRequest() throws {
        let failure = try Self.failure(#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#)
        #expect(failure.error.code == -32600)
        #expect(failure.error.message.contains("Batches are not supported"))
    }

    @Test(arguments: [
        (#"{"id":1,"method":"ping"}"#, "jsonrpc"),
        (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, "jsonrpc"),
        (#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, "must not be null"),
        (#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, "string or an integer"),
        (#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#, "string or an integer"),
        (#"{"jsonrpc":"2.0","id":1,"method":3}"#, "method"),
        (#"{"jsonrpc":"2.0","id":1}"#, "no method"),
        (#""ping""#, "JSON object"),
    ])
    func malformedMessagesAreInvalidRequests(text: String, named: String) throws {
        let failure = try Self.failure(text)
        #expect(failure.error.code == -32600, "\(text)")
        #expect(failure.error.message.contains(named), "\(failure.error.message)")
    }

    @Test func theIdIsEchoedWhenItCouldBeRead() throws {
        #expect(try Self.failure(#"{"jsonrpc":"1.0","id":"k","method":"ping"}"#).id == .string("k"))
    }

    @Test func paramsThatAreNotAnObjectAreInvalidParams() throws {
        let failure = try Self.failure(#"{"jsonrpc":"2.0","id":4,"method":"tools/list","params":[1,2]}"#)
        #expect(failure.error.code == -32602)
        #expect(failure.id == .number(4))
    }

    @Test func responsesCarryTheIdAndTheErrorObject() {
        #expect(
            JSONRPC.response(id: .string("x"), result: .object([:]))
                == .object(["jsonrpc": .string("2.0"), "id": .string("x"), "result": .object([:])])
        )
        let error = JSONRPC.response(id: nil, error: .internalError("Something failed."))
        #expect(error["id"] == .null)
        #expect(error["error"]?["code"] == .integer(-32603))
        #expect(error["error"]?["message"] == .string("Something failed."))
        #expect(JSONRPCError.methodNotFound("nope").code == -32601)
    }
}
