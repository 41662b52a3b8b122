public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyProviders

/// How one page of a dataset is asked for and read (pure: no I/O). The request is the dataset's tool called with the
/// dataset's fixed input plus what the walk drives: the cursor or page number, and the incremental value.
public struct SyncPaging: Sendable {
    public let dataset: Dataset
    public let tool: Tool

    public init(dataset: Dataset, tool: Tool) {
        self.dataset = dataset
        self.tool = tool
    }

    /// What one page yields.
    public struct Page: Sendable, Equatable {
        /// Each record's key and kept fields, in the answer's order (records without a key are skipped).
        public var records: [(key: String, fields: JSONValue)]
        /// Where the next page starts (a cursor, or a page number as text); nil on the last page.
        public var next: String?
        /// The greatest `incremental.from` value of the page's records, for an incremental dataset.
        public var watermark: String?

        public static func == (lhs: Page, rhs: Page) -> Bool {
            lhs.records.map(\.key) == rhs.records.map(\.key) && lhs.records.map(\.fields) == rhs.records.map(\.fields)
                && lhs.next == rhs.next && lhs.watermark == rhs.watermark
        }
    }

    /// The tool call for the page at `cursor` (nil: the first), asking only for changes since `since` when given.
    public func call(cursor: String?, since: String?) throws(LatchkeyError) -> ToolCall {
        var input: [String: JSONValue] = [:]
        for (name, value) in dataset.input ?? [:] { input[name] = value.json }
        switch dataset.pagination?.style {
        case .cursor?:
            if let cursor, let field = tool.result?.pagination?.cursorInput { input[field] = .string(cursor) }
        case .page?:
            if let field = dataset.pagination?.pageInput { input[field] = .integer(Int64(cursor.flatMap(Int.init) ?? 1)) }
        case nil:
            break
        }
        if let since, let field = dataset.incremental?.input { input[field] = .string(since) }
        return try ToolCall(tool: tool, input: .object(input))
    }

    /// The records of a page answered for `cursor`; nil when the answer holds no array of records where the
    /// dataset says.
    public func read(_ body: Data, cursor: String?) -> Page? {
        guard let document = JSONValue.parse(body) else { return nil }
        let found = dataset.records.map { document.value(at: $0) } ?? document
        guard case .array(let elements)? = found else { return nil }
        let paths = dataset.fields.map { $0.split(separator: ".").map(String.init) }
        var records: [(key: String, fields: JSONValue)] = []
        var watermark: String?
        for element in elements {
            if let from = dataset.incremental?.from, let value = element.value(at: from)?.scalarString, value > (watermark ?? "") {
                watermark = value
            }
            guard let key = element.value(at: dataset.key)?.scalarString, !key.isEmpty else { continue }
            if let match = dataset.match, !match.allSatisfy({ element.value(at: $0.key)?.scalarString == $0.value }) { continue }
            guard let kept = ToolResultShaper.keep(paths, of: element) else { continue }
            records.append((key, kept))
        }
        return Page(records: records, next: next(after: cursor, document: document, count: elements.count), watermark: watermark)
    }

    private func next(after cursor: String?, document: JSONValue, count: Int) -> String? {
        switch dataset.pagination?.style {
        case .cursor?:
            guard let path = tool.result?.pagination?.nextCursor, let next = document.value(at: path)?.scalarString, !next.isEmpty,
                next != cursor
            else { return nil }
            return next
        case .page?:
            let page = cursor.flatMap(Int.init) ?? 1
            guard count > 0, count >= pageSize else { return nil }
            return String(page + 1)
        case nil:
            return nil
        }
    }

    /// The page size a `page` walk asks for: the dataset's input, else the tool's default.
    var pageSize: Int {
        guard let field = dataset.pagination?.sizeInput else { return .max }
        let value = dataset.input?[field] ?? tool.input.properties[field]?.default
        if case .integer(let size)? = value { return max(1, size) }
        return .max
    }
}
