import Foundation
import LatchkeyProviders
import Testing

/// The `datasets` of provider files: reference data synced per credential, checked like tools.
@Suite("Dataset catalog")
struct DatasetCatalogTests {
    static let tools = """
        {
          "name": "acme.list_things",
          "title": "List things",
          "description": "Lists the things of the person's Acme account, a page at a time. Use it to find a thing's id.",
          "input": {
            "type": "object",
            "properties": {
              "limit": {"type": "integer", "description": "How many", "default": 10, "minimum": 1, "maximum": 100},
              "cursor": {"type": "string", "description": "Cursor of the next page"},
              "page": {"type": "integer", "description": "Page number", "minimum": 1},
              "since": {"type": "string", "description": "Only things changed after this time"}
            },
            "additionalProperties": false
          },
          "request": {"method": "GET", "path": "/things", "query": {"limit": "limit", "cursor": "cursor", "page": "page", "since": "since"}},
          "scopes": [],
          "result": {"fields": ["things.id", "next"], "pagination": {"cursorInput": "cursor", "nextCursor": "next"}},
          "readOnly": true
        },
        {
          "name": "acme.delete_thing",
          "title": "Delete a thing",
          "description": "Deletes one thing of the person's Acme account. Use it only when the person asks to delete it.",
          "input": {"type": "object", "properties": {}, "additionalProperties": false},
          "request": {"method": "POST", "path": "/things/delete"},
          "scopes": [],
          "readOnly": false
        }
        """

    static let dataset = """
        {
          "name": "acme.things",
          "title": "Things",
          "description": "The person's things.",
          "tool": "acme.list_things",
          "input": {"limit": 50},
          "records": "things",
          "key": "id",
          "fields": ["id", "name", "owner.login"],
          "pagination": {"style": "cursor"},
          "incremental": {"input": "since", "from": "updated_at"}
        }
        """

    static func provider(_ dataset: String) -> String {
        ToolValidationTests.provider(tools: tools).replacingOccurrences(of: "\"tools\":", with: "\"datasets\": [\(dataset)], \"tools\":")
    }

    func rejection(replacing old: String, with new: String) -> CatalogError? {
        #expect(Self.dataset.contains(old), "the test must change something")
        return Self.rejection(Self.provider(Self.dataset.replacingOccurrences(of: old, with: new)))
    }

    /// Why the provider file `acme.json` holding `json` is refused; nil when it loads.
    static func rejection(_ json: String) -> CatalogError? {
        do {
            _ = try ProviderCatalog(files: ["acme.json": Data(json.utf8)])
            return nil
        } catch let error as CatalogError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func aValidDatasetLoadsAndIsFoundWithItsTool() throws {
        let catalog = try ProviderCatalog(files: ["acme.json": Data(Self.provider(Self.dataset).utf8)])
        let found = try #require(catalog.dataset(named: "acme.things"))
        #expect(found.tool.name == "acme.list_things")
        #expect(found.dataset.input == ["limit": .integer(50)])
        #expect(found.dataset.pagination?.style == .cursor)
        #expect(catalog.datasets.map(\.name) == ["acme.things"])
        #expect(catalog.dataset(named: "acme.nothing") == nil)
    }

    @Test func eachMistakeIsNamedByDatasetAndKey() {
        let cases: [(String, String, String, String)] = [
            (#""name": "acme.things""#, #""name": "things""#, "datasets[0].name", "must be 'acme.' followed by"),
            (#""tool": "acme.list_things""#, #""tool": "acme.nope""#, "datasets[acme.things].tool", "is not a tool of acme"),
            (#""tool": "acme.list_things""#, #""tool": "acme.delete_thing""#, "datasets[acme.things].tool", "must be a read-only tool"),
            (#""input": {"limit": 50}"#, #""input": {"limit": 500}"#, "datasets[acme.things].input.limit", "must be a valid integer"),
            (#""input": {"limit": 50}"#, #""input": {"colour": "red"}"#, "datasets[acme.things].input.colour", "is not an input property"),
            (#""input": {"limit": 50}"#, #""input": {"cursor": "x"}"#, "datasets[acme.things].input.cursor", "is set by the sync"),
            (#""key": "id""#, #""key": "uid""#, "datasets[acme.things].fields", "must keep the key 'uid'"),
            (#""fields": ["id", "name", "owner.login"]"#, #""fields": []"#, "datasets[acme.things].fields", "at least one"),
            (#""style": "cursor""#, #""style": "page""#, "datasets[acme.things].pagination.pageInput", "integer input property"),
            (#""style": "cursor""#, #""style": "link""#, "datasets[0].pagination.style", "unsupported value"),
            (#""input": "since""#, #""input": "limit""#, "datasets[acme.things].incremental.input", "string input property"),
            (#""records": "things""#, #""records": "things", "extra": 1"#, "datasets[0].extra", "unknown key"),
        ]
        for (old, new, field, message) in cases {
            let error = rejection(replacing: old, with: new)
            #expect(error?.field == field, "\(new): \(String(describing: error))")
            #expect(error?.message.contains(message) == true, "\(new): \(String(describing: error))")
        }
    }

    @Test func theBundledCatalogSyncsTheMainProvidersDatasets() throws {
        let catalog = try ProviderCatalog.bundled()
        let names = Set(catalog.datasets.map(\.name))
        for name in ["sandbox.items", "slack.channels", "slack.users", "github.repos", "google.calendars", "notion.databases"] {
            let found = try #require(catalog.dataset(named: name), "missing \(name)")
            #expect(names.contains(name))
            #expect(found.dataset.fields.contains(found.dataset.key))
        }
        let repos = try #require(catalog.dataset(named: "github.repos"))
        #expect(repos.dataset.pagination?.style == .page && repos.dataset.incremental?.input == "since")
        #expect(try #require(catalog.dataset(named: "notion.databases")).dataset.match == ["object": "database"])
    }
}
