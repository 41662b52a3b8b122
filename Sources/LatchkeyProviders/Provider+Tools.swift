/// A tool: one provider API call described for a language model — what it does, the input it takes (a JSON Schema
/// subset), the HTTP request it makes from that input, the scopes it needs and how its answer is trimmed. A tool may
/// instead answer from a dataset synced for each credential (``fromDataset``), making no provider call.
///
/// Tools live in the `tools` array of a provider file and are checked when the catalog loads.
public struct Tool: Sendable, Codable, Equatable {
    /// `provider.snake_case`, e.g. `github.list_repos`; unique in the catalog.
    public var name: String
    /// Short name shown to people, e.g. "List repositories".
    public var title: String
    /// Written for a language model: what the tool does, when to use it and what it returns.
    public var description: String
    /// JSON Schema of the input (a subset: an object of typed properties, no extra properties).
    public var input: ToolInputSchema
    /// The HTTP request made with the input; nil for a tool that answers from synced data (``fromDataset``).
    public var request: ToolRequest?
    /// Set instead of ``request`` when the tool answers from the caller's records of a dataset of the same provider.
    public var fromDataset: ToolDatasetSource?
    /// Scopes of the provider's `oauth.scopes`, any one of which lets the tool work; empty when any credential does.
    public var scopes: [String]
    /// How the provider's answer is shaped before it is returned.
    public var result: ToolResult?
    /// True when the tool only reads (it makes a `GET`, or answers from synced data).
    public var readOnly: Bool
}

/// Where a tool that answers from synced data looks: a dataset of its provider, and which input fields match which
/// kept fields of a record. A record is returned when every match whose input field is given holds for it.
public struct ToolDatasetSource: Sendable, Codable, Equatable {
    /// The dataset, e.g. `slack.channels`.
    public var dataset: String
    /// Input field → how its value is compared with the record.
    public var match: [String: ToolDatasetMatch]
    /// The input field (an integer) that caps how many records are returned; 20 when left out or not given.
    public var limitInput: String?
}

/// How one input field matches a record: its text against any of the record's fields, ignoring case.
public struct ToolDatasetMatch: Sendable, Codable, Equatable {
    /// Dotted paths of kept fields of the dataset; the record matches when any of them does.
    public var fields: [String]
    /// `exact` (the whole value) or `contains` (part of it; exact matches come first in the answer).
    public var mode: Mode

    public enum Mode: String, Sendable, Codable, Equatable {
        case exact
        case contains
    }
}

/// The input of a tool: `{"type": "object", "properties": …, "required": […], "additionalProperties": false}`.
public struct ToolInputSchema: Sendable, Codable, Equatable {
    /// Always `object`.
    public var type: String
    /// Each input field by name.
    public var properties: [String: ToolInputProperty]
    /// Names of the fields that must be given.
    public var required: [String]?
    /// Always `false`: fields not described are refused.
    public var additionalProperties: Bool
}

/// One input field of a tool.
public struct ToolInputProperty: Sendable, Codable, Equatable {
    /// `string`, `integer`, `number`, `boolean` or `array`.
    public var type: String
    /// What the field means and how to fill it, for a language model.
    public var description: String
    /// The only values allowed (for strings).
    public var `enum`: [String]?
    /// The value used when the field is left out.
    public var `default`: ToolValue?
    /// Smallest allowed value (for numbers).
    public var minimum: Double?
    /// Largest allowed value (for numbers).
    public var maximum: Double?
    /// The elements of an array.
    public var items: ToolInputItems?
}

/// The elements of an array input field.
public struct ToolInputItems: Sendable, Codable, Equatable {
    /// `string`, `integer`, `number` or `boolean`.
    public var type: String
    /// What each element is.
    public var description: String?
    /// The only values allowed (for strings).
    public var `enum`: [String]?
}

/// A scalar JSON value: a default, or a constant of a request body.
public enum ToolValue: Sendable, Codable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}

/// The HTTP request of a tool.
public struct ToolRequest: Sendable, Codable, Equatable {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    /// Path relative to the provider's API base (``Provider/proxyBaseURL`` or the integration's `apiBaseURL`), with
    /// `{field}` placeholders filled (percent-encoded) from input fields of the same name.
    public var path: String
    /// Query parameters: parameter name → input field. A field left out (and without default) is not sent.
    public var query: [String: String]?
    /// The request body, for methods that send one.
    public var body: ToolBody?
}

/// How a tool's request body is built from its input.
public struct ToolBody: Sendable, Codable, Equatable {
    /// `json` (the default), `form` (`application/x-www-form-urlencoded`) or `raw` (one input field sent as it is).
    public var encoding: Encoding?
    /// Body paths (dotted for nested JSON objects) → input field. A field left out (and without default) is not sent.
    public var fields: [String: String]?
    /// Body paths → fixed values sent every time (a GraphQL query, a flag the provider needs).
    public var constants: [String: ToolValue]?
    /// For `raw`: the input field whose text is the whole body.
    public var rawField: String?
    /// For `raw`: the `Content-Type` of the body, e.g. `message/rfc822`.
    public var contentType: String?

    /// How the body is encoded.
    public enum Encoding: String, Sendable, Codable, Equatable {
        case json
        case form
        case raw
    }
}

/// What is kept of a provider's answer.
public struct ToolResult: Sendable, Codable, Equatable {
    /// Dotted paths of the fields kept; a path through an array applies to each element (`items.id`). Nil keeps all.
    public var fields: [String]?
    /// How to ask for the next page, when the answer is paged.
    public var pagination: ToolPagination?
}

/// Cursor pagination of a tool's answer.
public struct ToolPagination: Sendable, Codable, Equatable {
    /// The input field that takes the cursor of the next page.
    public var cursorInput: String
    /// Dotted path of the next page's cursor in the answer; absent or empty on the last page.
    public var nextCursor: String
}

extension ProviderCatalog {
    /// Every tool of every provider, by provider display name then tool name.
    public var tools: [Tool] {
        all.flatMap { ($0.tools ?? []).sorted { $0.name < $1.name } }
    }

    /// The tool with this name, with its provider.
    public func tool(named name: String) -> (provider: Provider, tool: Tool)? {
        guard let dot = name.firstIndex(of: "."), let provider = provider(id: String(name[..<dot])) else { return nil }
        return provider.tools?.first { $0.name == name }.map { (provider, $0) }
    }

    /// `tools[3].input…` → `tools[github.get_repo].input…`, so that an error names the tool.
    static func namingTool(_ field: String, of provider: Provider) -> String {
        guard field.hasPrefix("tools["), let close = field.firstIndex(of: "]"),
            let index = Int(field[field.index(field.startIndex, offsetBy: 6)..<close]),
            let tools = provider.tools, tools.indices.contains(index)
        else { return field }
        return "tools[\(tools[index].name)]" + field[field.index(after: close)...]
    }
}
