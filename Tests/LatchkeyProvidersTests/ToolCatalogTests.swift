import Foundation
import LatchkeyProviders
import Testing

@Suite("Tools of the bundled catalog")
struct BundledToolsTests {
    let catalog: ProviderCatalog

    init() throws {
        catalog = try ProviderCatalog.bundled()
    }

    @Test func hasAtLeastFortyToolsOverTheMainProviders() throws {
        #expect(catalog.tools.count >= 40)
        let names = Set(catalog.tools.map(\.name))
        #expect(names.count == catalog.tools.count)
        for name in [
            "sandbox.get_profile", "sandbox.list_items", "github.list_repos", "github.get_repo", "github.list_issues",
            "github.get_issue", "github.create_issue", "github.comment_on_issue", "github.list_pull_requests",
            "github.get_pull_request", "github.search_code", "github.search_issues", "slack.list_channels",
            "slack.channel_history", "slack.post_message", "slack.list_users", "slack.get_user", "google.drive_list_files",
            "google.drive_search_files", "google.gmail_list_messages", "google.gmail_read_message", "google.gmail_send_message",
            "google.calendar_list_events", "google.calendar_create_event", "notion.search", "notion.get_page",
            "linear.list_issues", "linear.create_issue", "atlassian.jira_search_issues", "hubspot.list_contacts",
            "openai.create_response",
        ] {
            #expect(names.contains(name), "missing \(name)")
        }
    }

    @Test func theSandboxToolsMatchItsAPI() throws {
        let tools = try #require(catalog.provider(id: "sandbox")?.tools)
        #expect(tools.map(\.name) == ["sandbox.get_profile", "sandbox.list_items", "sandbox.find_item"])
        #expect(tools.map(\.request?.path) == ["/me", "/items", nil])
        #expect(tools.map(\.scopes) == [["profile"], ["items.read"], ["items.read"]])
        #expect(tools.allSatisfy { $0.readOnly && ($0.request?.method ?? "GET") == "GET" })
        #expect(tools[1].result?.fields == ["items.id", "items.title", "items.done", "next_cursor"])
        #expect(tools[1].result?.pagination?.cursorInput == "cursor")
        // The third answers from the synced items: no request of its own.
        #expect(tools[2].fromDataset?.dataset == "sandbox.items")
        #expect(tools[2].fromDataset?.match["title"]?.fields == ["title"] && tools[2].fromDataset?.match["title"]?.mode == .contains)
    }

    @Test func everyToolRevalidatesFromItsOwnEncodingAndIsFoundByName() throws {
        for tool in catalog.tools {
            let found = try #require(catalog.tool(named: tool.name))
            #expect(found.tool == tool)
            #expect(tool.name.hasPrefix(found.provider.id + "."))
        }
        let github = try #require(catalog.provider(id: "github"))
        let data = try JSONEncoder().encode(github)
        let again = try ProviderCatalog(files: ["github.json": data])
        #expect(again.provider(id: "github")?.tools == github.tools)
        // Every GET of the catalog is a read; a language model may call those without asking.
        for tool in catalog.tools where tool.request?.method == "GET" {
            #expect(tool.readOnly, "\(tool.name)")
        }
        #expect(catalog.tool(named: "github.no_such_tool") == nil)
        #expect(catalog.tool(named: "nothing") == nil)
    }

    @Test func aLinearToolIsAGraphQLPostWithItsQueryAsAConstant() throws {
        let tool = try #require(catalog.tool(named: "linear.create_issue")?.tool)
        #expect(tool.request?.method == "POST")
        #expect(tool.request?.path == "/graphql")
        guard case .string(let query) = tool.request?.body?.constants?["query"] else {
            Issue.record("no GraphQL query")
            return
        }
        #expect(query.hasPrefix("mutation"))
        #expect(tool.request?.body?.fields?["variables.input.teamId"] == "teamId")
        #expect(tool.readOnly == false)
    }
}
