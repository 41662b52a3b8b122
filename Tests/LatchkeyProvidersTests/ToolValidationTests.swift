import Foundation
import LatchkeyProviders
import Testing

/// Each refusal of a provider's `tools`, named by file, tool and key.
@Suite("Tool validation")
struct ToolValidationTests {
    static let tool = """
        {
          "name": "acme.get_thing",
          "title": "Get a thing",
          "description": "Returns one thing of the person's Acme account by id. Use it when asked about a thing.",
          "input": {
            "type": "object",
            "properties": {
              "thing_id": {"type": "string", "description": "Thing id"},
              "limit": {"type": "integer", "description": "How many", "default": 10, "minimum": 1, "maximum": 100},
              "kind": {"type": "string", "description": "Kind", "enum": ["a", "b"]}
            },
            "required": ["thing_id"],
            "additionalProperties": false
          },
          "request": {"method": "GET", "path": "/things/{thing_id}", "query": {"limit": "limit", "kind": "kind"}},
          "scopes": ["read"],
          "result": {"fields": ["id", "items.name"], "pagination": {"cursorInput": "limit", "nextCursor": "meta.next"}},
          "readOnly": true
        }
        """

    static func provider(tools: String) -> String {
        CatalogValidationTests.valid.replacingOccurrences(
            of: "\"proxyBaseURL\"",
            with: "\"tools\": [\(tools)], \"proxyBaseURL\""
        )
    }

    func rejection(_ tool: String) -> CatalogError? {
        do {
            _ = try ProviderCatalog(files: ["acme.json": Data(Self.provider(tools: tool).utf8)])
            return nil
        } catch let error as CatalogError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    func rejection(replacing old: String, with new: String) throws -> CatalogError? {
        #expect(Self.tool.contains(old), "the test must change something")
        return rejection(Self.tool.replacingOccurrences(of: old, with: new))
    }

    @Test func acceptsAValidTool() throws {
        let catalog = try ProviderCatalog(files: ["acme.json": Data(Self.provider(tools: Self.tool).utf8)])
        let tool = try #require(catalog.tool(named: "acme.get_thing")?.tool)
        #expect(tool.input.properties["limit"]?.default == .integer(10))
        #expect(tool.input.properties["kind"]?.enum == ["a", "b"])
        #expect(tool.request?.query?["limit"] == "limit")
        #expect(catalog.tools.map(\.name) == ["acme.get_thing"])
    }

    @Test func refusesABadOrForeignName() throws {
        let wrong = try #require(try rejection(replacing: "\"acme.get_thing\"", with: "\"github.get_thing\""))
        #expect(wrong.description.hasPrefix("acme.json: tools[0].name: 'github.get_thing' must be 'acme.' followed by"))
        let camel = try #require(try rejection(replacing: "\"acme.get_thing\"", with: "\"acme.getThing\""))
        #expect(camel.field == "tools[0].name")
    }

    @Test func refusesATwiceDefinedName() throws {
        let error = try #require(rejection(Self.tool + ", " + Self.tool))
        #expect(error.description == "acme.json: tools[1].name: 'acme.get_thing' is defined twice")
    }

    @Test func refusesAnUnknownSchemaKeyNamingTheTool() throws {
        let error = try #require(
            try rejection(replacing: "\"description\": \"Thing id\"", with: "\"description\": \"Thing id\", \"format\": \"uuid\"")
        )
        #expect(error.description == "acme.json: tools[acme.get_thing].input.properties.thing_id.format: unknown key")
        let top = try #require(try rejection(replacing: "\"readOnly\": true", with: "\"readOnly\": true, \"dangerous\": false"))
        #expect(top.description == "acme.json: tools[acme.get_thing].dangerous: unknown key")
    }

    @Test func refusesAPlaceholderThatIsNotARequiredInputProperty() throws {
        let unknown = try #require(try rejection(replacing: "/things/{thing_id}", with: "/things/{thing}"))
        #expect(unknown.description == "acme.json: tools[acme.get_thing].request.path: placeholder {thing} is not an input property")
        let optional = try #require(try rejection(replacing: "\"required\": [\"thing_id\"],", with: ""))
        #expect(optional.description == "acme.json: tools[acme.get_thing].request.path: placeholder {thing_id} must be a required input property")
        let list = try #require(
            try rejection(
                replacing: "\"thing_id\": {\"type\": \"string\", \"description\": \"Thing id\"}",
                with: "\"thing_id\": {\"type\": \"array\", \"description\": \"Thing ids\", \"items\": {\"type\": \"string\"}}"
            )
        )
        #expect(list.description == "acme.json: tools[acme.get_thing].request.path: placeholder {thing_id} must be a string or integer property")
    }

    @Test func refusesAPathThatLeavesTheAPIBase() throws {
        for path in ["https://evil.example/things/{thing_id}", "/things/../{thing_id}", "/things/{thing_id}?all=1", "//evil.example/{thing_id}"] {
            let error = try #require(try rejection(replacing: "/things/{thing_id}", with: path))
            #expect(error.field == "tools[acme.get_thing].request.path", "\(path)")
        }
    }

    @Test func refusesAMappingOfAnUndeclaredProperty() throws {
        let query = try #require(try rejection(replacing: "\"kind\": \"kind\"}", with: "\"kind\": \"sort\"}"))
        #expect(query.description == "acme.json: tools[acme.get_thing].request.query.kind: input property 'sort' is not declared")
        let body = try #require(
            try rejection(
                replacing: "\"method\": \"GET\", \"path\": \"/things/{thing_id}\"",
                with: "\"method\": \"POST\", \"path\": \"/things/{thing_id}\", \"body\": {\"fields\": {\"meta.size\": \"size\"}}"
            )
        )
        // A POST may not be read-only; with readOnly false the body mapping is checked.
        #expect(body.description == "acme.json: tools[acme.get_thing].readOnly: can only be true for a GET request (this one is POST)")
        let fixed = Self.tool
            .replacingOccurrences(of: "\"readOnly\": true", with: "\"readOnly\": false")
            .replacingOccurrences(
                of: "\"method\": \"GET\", \"path\": \"/things/{thing_id}\"",
                with: "\"method\": \"POST\", \"path\": \"/things/{thing_id}\", \"body\": {\"fields\": {\"meta.size\": \"size\"}}"
            )
        #expect(
            rejection(fixed)?.description == "acme.json: tools[acme.get_thing].request.body.fields.meta.size: input property 'size' is not declared"
        )
    }

    @Test func refusesAnUnusedProperty() throws {
        let error = try #require(try rejection(replacing: ", \"kind\": \"kind\"}", with: "}"))
        #expect(error.description == "acme.json: tools[acme.get_thing].input.properties.kind: is not used by the request (path, query or body)")
    }

    @Test func refusesRequiredNamesThatAreNotProperties() throws {
        let error = try #require(try rejection(replacing: "\"required\": [\"thing_id\"]", with: "\"required\": [\"thing_id\", \"owner\"]"))
        #expect(error.description == "acme.json: tools[acme.get_thing].input.required[1]: 'owner' is not one of the properties")
    }

    @Test func refusesASchemaThatIsNotAClosedObject() throws {
        let open = try #require(try rejection(replacing: "\"additionalProperties\": false", with: "\"additionalProperties\": true"))
        #expect(open.field == "tools[acme.get_thing].input.additionalProperties")
        let array = try #require(try rejection(replacing: "\"type\": \"object\"", with: "\"type\": \"array\""))
        #expect(array.description == "acme.json: tools[acme.get_thing].input.type: must be object")
        let type = try #require(try rejection(replacing: "\"type\": \"integer\"", with: "\"type\": \"int\""))
        #expect(type.description == "acme.json: tools[acme.get_thing].input.properties.limit.type: must be string, integer, number, boolean or array")
    }

    @Test func refusesADefaultThatDoesNotFitItsProperty() throws {
        let text = try #require(try rejection(replacing: "\"default\": 10", with: "\"default\": \"ten\""))
        #expect(text.description == "acme.json: tools[acme.get_thing].input.properties.limit.default: must be an integer")
        let high = try #require(try rejection(replacing: "\"default\": 10", with: "\"default\": 1000"))
        #expect(high.description == "acme.json: tools[acme.get_thing].input.properties.limit.default: is above the maximum")
        let enumValue = try #require(
            try rejection(replacing: "\"enum\": [\"a\", \"b\"]", with: "\"enum\": [\"a\", \"b\"], \"default\": \"c\"")
        )
        #expect(enumValue.description == "acme.json: tools[acme.get_thing].input.properties.kind.default: 'c' is not one of the enum values")
        let array = try #require(
            try rejection(replacing: "{\"type\": \"string\", \"description\": \"Kind\"", with: "{\"type\": \"array\", \"description\": \"Kind\"")
        )
        #expect(array.field == "tools[acme.get_thing].input.properties.kind.enum")
    }

    @Test func refusesAnUnknownScope() throws {
        let error = try #require(try rejection(replacing: "\"scopes\": [\"read\"]", with: "\"scopes\": [\"read\", \"admin\"]"))
        #expect(error.description == "acme.json: tools[acme.get_thing].scopes[1]: scope 'admin' is not described in oauth.scopes")
    }

    @Test func refusesAnUnknownMethod() throws {
        let error = try #require(try rejection(replacing: "\"method\": \"GET\"", with: "\"method\": \"HEAD\""))
        #expect(error.description == "acme.json: tools[acme.get_thing].request.method: must be GET, POST, PUT, PATCH or DELETE")
    }

    @Test func refusesReadOnlyOnAWrite() throws {
        let error = try #require(try rejection(replacing: "\"method\": \"GET\"", with: "\"method\": \"DELETE\""))
        #expect(error.description == "acme.json: tools[acme.get_thing].readOnly: can only be true for a GET request (this one is DELETE)")
    }

    @Test func refusesABadResultShape() throws {
        let field = try #require(try rejection(replacing: "\"items.name\"", with: "\"items..name\""))
        #expect(field.description == "acme.json: tools[acme.get_thing].result.fields[1]: 'items..name' is not a dotted path like items.id")
        let cursor = try #require(try rejection(replacing: "\"cursorInput\": \"limit\"", with: "\"cursorInput\": \"cursor\""))
        #expect(cursor.description == "acme.json: tools[acme.get_thing].result.pagination.cursorInput: input property 'cursor' is not declared")
    }

    @Test func refusesAThinDescription() throws {
        let error = try #require(
            try rejection(
                replacing: "Returns one thing of the person's Acme account by id. Use it when asked about a thing.",
                with: "Gets a thing."
            )
        )
        #expect(error.field == "tools[acme.get_thing].description")
    }
}
