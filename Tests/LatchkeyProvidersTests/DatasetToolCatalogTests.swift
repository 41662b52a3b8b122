import Foundation
import LatchkeyProviders
import Testing

/// Tools that answer from synced data (`fromDataset`): checked against the provider's datasets when the catalog loads.
@Suite("Dataset tool catalog")
struct DatasetToolCatalogTests {
    static let tool = """
        {
          "name": "acme.find_thing",
          "title": "Find a thing",
          "description": "Finds the person's Acme things by name or owner from the list Latchkey keeps synced, without calling Acme.",
          "input": {
            "type": "object",
            "properties": {
              "name": {"type": "string", "description": "The thing's name, or part of it"},
              "limit": {"type": "integer", "description": "How many", "default": 5, "minimum": 1, "maximum": 50}
            },
            "required": ["name"],
            "additionalProperties": false
          },
          "fromDataset": {"dataset": "acme.things", "match": {"name": {"fields": ["name", "owner.login"], "mode": "contains"}}, "limitInput": "limit"},
          "scopes": ["read"],
          "readOnly": true
        }
        """

    static func provider(_ tool: String) -> String {
        DatasetCatalogTests.provider(DatasetCatalogTests.dataset).replacingOccurrences(of: "\"tools\": [", with: "\"tools\": [\(tool), ")
    }

    func rejection(replacing old: String, with new: String) -> CatalogError? {
        #expect(Self.tool.contains(old), "the test must change something")
        return DatasetCatalogTests.rejection(Self.provider(Self.tool.replacingOccurrences(of: old, with: new)))
    }

    @Test func aToolReadingADatasetLoadsWithoutARequest() throws {
        let catalog = try ProviderCatalog(files: ["acme.json": Data(Self.provider(Self.tool).utf8)])
        let tool = try #require(catalog.tool(named: "acme.find_thing")?.tool)
        #expect(tool.request == nil)
        #expect(tool.fromDataset?.dataset == "acme.things")
        #expect(tool.fromDataset?.match["name"]?.fields == ["name", "owner.login"])
        #expect(tool.fromDataset?.match["name"]?.mode == .contains)
        #expect(tool.fromDataset?.limitInput == "limit")
        // It survives its own encoding, as every tool does.
        let again = try ProviderCatalog(files: ["acme.json": try JSONEncoder().encode(try #require(catalog.provider(id: "acme")))])
        #expect(again.tool(named: "acme.find_thing")?.tool == tool)
    }

    @Test func eachMistakeIsNamedByToolAndKey() {
        let at = "tools[acme.find_thing]"
        let cases: [(String, String, String, String)] = [
            (#""dataset": "acme.things""#, #""dataset": "acme.nope""#, "\(at).fromDataset.dataset", "is not a dataset of acme; known: acme.things"),
            (#""dataset": "acme.things""#, #""dataset": "github.repos""#, "\(at).fromDataset.dataset", "is not a dataset of acme"),
            (
                #"["name", "owner.login"]"#, #"["name", "owner"]"#, "\(at).fromDataset.match.name.fields[1]",
                "'owner' is not a field acme.things keeps"
            ),
            (#"["name", "owner.login"]"#, #"["title"]"#, "\(at).fromDataset.match.name.fields[0]", "is not a field acme.things keeps"),
            (#"["name", "owner.login"]"#, "[]", "\(at).fromDataset.match.name.fields", "at least one field"),
            (#""match": {"name": "#, #""match": {"colour": "#, "\(at).fromDataset.match.colour", "input property 'colour' is not declared"),
            (#""limitInput": "limit""#, #""limitInput": "name""#, "\(at).fromDataset.limitInput", "must name an integer input property"),
            (#", "limitInput": "limit""#, "", "\(at).input.properties.limit", "is not used by fromDataset"),
            (#""readOnly": true"#, #""readOnly": false"#, "\(at).readOnly", "must be true"),
            (#""scopes": ["read"],"#, #""scopes": ["read"], "request": {"method": "GET", "path": "/things"},"#, "\(at).request", "not both"),
            (
                #""scopes": ["read"],"#, #""scopes": ["read"], "result": {"fields": ["id"]},"#, "\(at).result",
                "is not for a tool that answers from a dataset"
            ),
            (#""mode": "contains""#, #""mode": "fuzzy""#, "tools[0].fromDataset.match.name.mode", "unsupported value"),
        ]
        for (old, new, field, message) in cases {
            let error = rejection(replacing: old, with: new)
            #expect(error?.field == field, "\(new): \(String(describing: error))")
            #expect(error?.message.contains(message) == true, "\(new): \(String(describing: error))")
        }
        // A tool with neither a request nor a dataset does nothing.
        let neither = rejection(
            replacing:
                #""fromDataset": {"dataset": "acme.things", "match": {"name": {"fields": ["name", "owner.login"], "mode": "contains"}}, "limitInput": "limit"},"#,
            with: ""
        )
        #expect(neither?.field == "\(at).request" && neither?.message.contains("is required") == true, "\(String(describing: neither))")
    }

    @Test func aDatasetCannotBeFetchedByAToolThatReadsSyncedData() throws {
        let provider = Self.provider(Self.tool).replacingOccurrences(of: #""tool": "acme.list_things""#, with: #""tool": "acme.find_thing""#)
        let error = DatasetCatalogTests.rejection(provider)
        #expect(
            error?.field == "datasets[acme.things].tool" && error?.message.contains("answers from synced data") == true,
            "\(String(describing: error))"
        )
    }

    @Test func theBundledCatalogFindsChannelsUsersReposAndSandboxItemsFromSyncedData() throws {
        let catalog = try ProviderCatalog.bundled()
        for (name, dataset) in [
            ("slack.find_channel", "slack.channels"), ("slack.find_user", "slack.users"), ("github.find_repo", "github.repos"),
            ("sandbox.find_item", "sandbox.items"),
        ] {
            let tool = try #require(catalog.tool(named: name)?.tool, "missing \(name)")
            #expect(tool.fromDataset?.dataset == dataset && tool.request == nil && tool.readOnly)
        }
        let findUser = try #require(catalog.tool(named: "slack.find_user")?.tool.fromDataset)
        #expect(findUser.match["query"]?.fields == ["name", "real_name", "profile.email"])
    }
}
