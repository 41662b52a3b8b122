import Foundation
import LatchkeyCore
import LatchkeyGateway
import LatchkeyOAuthClient
import LatchkeyProviders
import Testing

/// The request a tool makes from its input (``ToolCall``), and the input checks before it (``ToolInput``).
@Suite("Tool call builder")
struct ToolCallTests {
    static let catalog = try! ProviderCatalog.bundled()

    static func tool(_ name: String) throws -> Tool { try #require(catalog.tool(named: name)).tool }

    static func input(_ json: String) throws -> JSONValue { try #require(JSONValue.parse(Data(json.utf8))) }

    /// The field errors of an input the tool refuses.
    static func problems(_ name: String, _ json: String) throws -> [String: String] {
        let (tool, input) = (try tool(name), try input(json))
        do {
            _ = try ToolCall(tool: tool, input: input)
            Issue.record("\(json) was accepted")
            return [:]
        } catch {
            #expect(error.code == .invalidRequest)
            #expect(error.httpStatus == 400)
            return Dictionary(error.fields.map { ($0.path, $0.message) }) { first, _ in first }
        }
    }

    @Test func thePathIsFilledAndTheQueryMappedWithDefaults() throws {
        let call = try ToolCall(
            tool: try Self.tool("github.list_issues"),
            input: try Self.input(#"{"owner":"octo cat","repo":"hello","labels":"bug,ui"}"#)
        )
        #expect(call.method == "GET")
        #expect(call.path == "repos/octo%20cat/hello/issues")
        // Defaults of the fields left out are sent; the value's spaces and commas are encoded.
        #expect(call.queryString == "labels=bug%2Cui&page=1&per_page=30&state=open")
        #expect(call.body == nil && call.contentType == nil)
    }

    @Test(arguments: [
        ("a/b", "must not contain / or \\"),
        ("..", "must not be . or .."),
        (".", "must not be . or .."),
        ("%2e%2e", "must not be . or .."),
        ("%252E%252E", "must not be . or .."),
        ("a%2Fb", "must not contain / or \\"),
        ("a\\b", "must not contain / or \\"),
        ("", "must not be empty"),
    ])
    func aPathValueCanNeverAddOrClimbSegments(value: String, problem: String) throws {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
        let fields = try Self.problems("github.get_repo", #"{"owner":"\#(escaped)","repo":"r"}"#)
        #expect(fields["input.owner"]?.contains(problem) == true, "\(fields)")
    }

    @Test func everythingElseInAPathValueIsEncodedIntoItsOneSegment() throws {
        let call = try ToolCall(tool: try Self.tool("github.get_repo"), input: try Self.input(#"{"owner":"a?b#c%d","repo":"..x"}"#))
        let (path, query) = (call.path, call.queryString)
        #expect(call.path == "repos/a%3Fb%23c%25d/..x")
        // What the proxy checks before sending holds for every built path.
        #expect(throws: Never.self) { try ProxyService.check(path: path, queryString: query) }
    }

    @Test func everySchemaProblemIsReportedAtOnceByField() throws {
        let fields = try Self.problems(
            "github.list_issues",
            #"{"repo":5,"state":"maybe","per_page":101,"page":1.5,"colour":"red"}"#
        )
        #expect(fields["input.owner"] == "is required")
        #expect(fields["input.repo"] == "must be a string")
        #expect(fields["input.state"] == "must be one of open, closed, all")
        #expect(fields["input.per_page"] == "must be at most 100")
        #expect(fields["input.page"] == "must be a whole number")
        #expect(fields["input.colour"]?.hasPrefix("is not a field of this tool") == true)
        #expect(fields.count == 6)
        #expect(try Self.problems("github.list_issues", #"{"owner":"o","repo":"r","per_page":0}"#)["input.per_page"] == "must be at least 1")
        #expect(try Self.problems("sandbox.get_profile", #"{"x":true}"#)["input.x"]?.contains("this tool takes no input") == true)
        #expect(
            try Self.problems("github.create_issue", #"{"owner":"o","repo":"r","title":"t","labels":"bug"}"#)["input.labels"] == "must be an array"
        )
        #expect(
            try Self.problems("github.create_issue", #"{"owner":"o","repo":"r","title":"t","labels":["ok",3]}"#)["input.labels"]
                == "element 1 must be a string"
        )
        #expect(try Self.problems("github.get_repo", #"["o","r"]"#)["input"] == "must be an object")
    }

    @Test func aMissingInputIsAnEmptyObject() throws {
        let call = try ToolCall(tool: try Self.tool("sandbox.list_items"), input: nil)
        #expect(call.path == "items" && call.queryString == nil)
        #expect(try Self.problems("github.get_repo", "null")["input.owner"] == "is required")
    }

    @Test func aJSONBodyNestsDottedPathsAndKeepsConstants() throws {
        let call = try ToolCall(
            tool: try Self.tool("hubspot.create_contact"),
            input: try Self.input(#"{"email":"a@example.com","firstname":"Ada"}"#)
        )
        #expect(call.method == "POST" && call.contentType == "application/json")
        let body = try #require(JSONValue.parse(call.body ?? Data()))
        #expect(body == .object(["properties": .object(["email": .string("a@example.com"), "firstname": .string("Ada")])]))

        let linear = try ToolCall(tool: try Self.tool("linear.list_teams"), input: try Self.input(#"{"first":5}"#))
        let document = try #require(JSONValue.parse(linear.body ?? Data()))
        #expect(document["query"]?.scalarString?.hasPrefix("query Teams") == true)
        #expect(document.value(at: "variables.first") == .integer(5))

        let issue = try ToolCall(
            tool: try Self.tool("github.create_issue"),
            input: try Self.input(#"{"owner":"o","repo":"r","title":"Bug","labels":["a","b"]}"#)
        )
        #expect(JSONValue.parse(issue.body ?? Data())?["labels"] == .array([.string("a"), .string("b")]))
    }

    @Test func rawAndFormBodies() throws {
        let raw = try ToolCall(tool: try Self.tool("google.gmail_send_message"), input: try Self.input(#"{"message":"To: a@example.com\r\n\r\nHi"}"#))
        #expect(raw.contentType == "message/rfc822")
        #expect(raw.body == Data("To: a@example.com\r\n\r\nHi".utf8))

        let form = try JSONDecoder().decode(
            Tool.self,
            from: Data(
                #"""
                {"name": "x.post", "title": "Post", "description": "Posts a thing for the test of form bodies, nothing more.",
                 "input": {"type": "object", "properties": {"text": {"type": "string", "description": "The text"}}, "required": ["text"],
                           "additionalProperties": false},
                 "request": {"method": "POST", "path": "/post", "body": {"encoding": "form", "fields": {"text": "text"}, "constants": {"as_user": true}}},
                 "scopes": [], "readOnly": false}
                """#.utf8
            )
        )
        let call = try ToolCall(tool: form, input: try Self.input(#"{"text":"a b&c=d"}"#))
        #expect(call.contentType == "application/x-www-form-urlencoded")
        #expect(String(decoding: try #require(call.body), as: UTF8.self) == "as_user=true&text=a+b%26c%3Dd")
    }

    @Test func theResultKeepsTheCatalogsFieldsThroughArraysAndReadsTheNextCursor() throws {
        let repos = ToolResultShaper(tool: try Self.tool("github.get_repo"))
        let shaped = try #require(
            repos.shape(
                Data(#"{"id":1,"full_name":"o/r","owner":{"login":"o"},"license":{"spdx_id":"MIT","name":"MIT License"},"topics":["a"]}"#.utf8)
            )
        )
        #expect(
            shaped.result
                == .object([
                    "id": .integer(1), "full_name": .string("o/r"), "license": .object(["spdx_id": .string("MIT")]), "topics": .array([.string("a")]),
                ])
        )
        #expect(shaped.nextCursor == nil)

        let items = ToolResultShaper(tool: try Self.tool("sandbox.list_items"))
        let list = try #require(items.shape(Data(#"{"items":[{"id":"1","title":"Milk","done":false,"owner":"x"}],"secret":"no"}"#.utf8)))
        #expect(list.result == .object(["items": .array([.object(["id": .string("1"), "title": .string("Milk"), "done": .bool(false)])])]))

        let channels = ToolResultShaper(tool: try Self.tool("slack.list_channels"))
        let page = try #require(channels.shape(Data(#"{"ok":true,"channels":[],"response_metadata":{"next_cursor":"dGVhbTpD"}}"#.utf8)))
        #expect(page.nextCursor == "dGVhbTpD")
        let last = try #require(channels.shape(Data(#"{"ok":true,"channels":[],"response_metadata":{"next_cursor":""}}"#.utf8)))
        #expect(last.nextCursor == nil)
        #expect(channels.shape(Data())?.result == nil && channels.shape(Data())?.nextCursor == nil)
        #expect(channels.shape(Data([0xFF, 0xFE])) == nil)
    }
}
