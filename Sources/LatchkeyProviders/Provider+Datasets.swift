/// A dataset: reference data Latchkey keeps per credential (a person's Slack channels, GitHub repositories…),
/// fetched in the background by calling one of the provider's tools page after page.
///
/// Datasets live in the `datasets` array of a provider file and are checked when the catalog loads: the tool must
/// exist and only read, the fixed input must fit the tool's input schema, and the paths must be dotted paths.
public struct Dataset: Sendable, Codable, Equatable {
    /// `provider.snake_case`, e.g. `slack.channels`; unique in the catalog.
    public var name: String
    /// Short name shown to people, e.g. "Channels".
    public var title: String
    /// What the records are, in plain words.
    public var description: String
    /// The read-only tool whose request fetches a page, e.g. `slack.list_channels`: its path, query, body and scopes.
    public var tool: String
    /// True when the tool makes a POST that only reads (a search or query API such as Notion's); any other tool must
    /// be read-only.
    public var readsWithPost: Bool?
    /// Fixed input values of the tool for every page (a larger page size, a filter), checked against its schema.
    public var input: [String: ToolValue]?
    /// Dotted path of the array of records in an answer; left out when the answer itself is the array.
    public var records: String?
    /// Dotted path, inside a record, of the value that identifies it (stored records are upserted by it).
    public var key: String
    /// Dotted paths, inside a record, of the fields kept; a path through an array applies to each element.
    public var fields: [String]
    /// Keeps only the records whose field (dotted path) has this text value, e.g. `{"object": "database"}`.
    public var match: [String: String]?
    /// How the next page is asked for; left out for an answer that is never paged.
    public var pagination: DatasetPagination?
    /// How a later run asks only for what changed since the last one, where the provider allows it.
    public var incremental: DatasetIncremental?
}

/// How the pages of a dataset are walked.
public struct DatasetPagination: Sendable, Codable, Equatable {
    /// `cursor`: the tool's own ``ToolPagination`` (the answer names the next page's cursor); `page`: a page number
    /// in ``pageInput``, from 1, until a page holds fewer records than ``sizeInput`` asks for.
    public var style: Style
    /// For `page`: the tool input field that takes the page number.
    public var pageInput: String?
    /// For `page`: the tool input field that takes the page size (its value comes from the dataset's input or the
    /// field's default).
    public var sizeInput: String?

    public enum Style: String, Sendable, Codable, Equatable {
        case cursor
        case page
    }
}

/// An incremental dataset: the greatest value of ``from`` seen in a run is sent in ``input`` on the next run, so
/// the provider answers only records changed since. Records are then never removed by a run, only updated.
public struct DatasetIncremental: Sendable, Codable, Equatable {
    /// The tool input field that takes the value (GitHub's `since`).
    public var input: String
    /// Dotted path, inside a record, of a value that grows when the record changes (an ISO 8601 time).
    public var from: String
}

extension ProviderCatalog {
    /// Every dataset of every provider, by provider display name then dataset name.
    public var datasets: [Dataset] {
        all.flatMap { ($0.datasets ?? []).sorted { $0.name < $1.name } }
    }

    /// The dataset with this name, with its provider and the tool it calls.
    public func dataset(named name: String) -> (provider: Provider, dataset: Dataset, tool: Tool)? {
        guard let dot = name.firstIndex(of: "."), let provider = provider(id: String(name[..<dot])),
            let dataset = provider.datasets?.first(where: { $0.name == name }),
            let tool = provider.tools?.first(where: { $0.name == dataset.tool })
        else { return nil }
        return (provider, dataset, tool)
    }
}
