public import Foundation

/// A decoded JSON value that keeps integers exact (Discord and Twitter ids do not fit a `Double`).
public enum JSONValue: Sendable, Equatable, Decodable {
    case string(String)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsigned(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses a JSON document; nil when the data is not JSON.
    public static func parse(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value at a dotted path such as `data.viewer.id`; numeric components index arrays.
    public func value(at dottedPath: String) -> JSONValue? {
        var current: JSONValue? = self
        for component in dottedPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            switch current {
            case .object(let members): current = members[component]
            case .array(let items):
                guard let index = Int(component), items.indices.contains(index) else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    /// Strings as they are, numbers in their plain decimal form, booleans as `true`/`false`; nil for the rest.
    public var scalarString: String? {
        switch self {
        case .string(let value): value
        case .integer(let value): String(value)
        case .unsigned(let value): String(value)
        case .double(let value): value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): value ? "true" : "false"
        default: nil
        }
    }

    /// The value as a number of seconds: a JSON number, or a string holding one. Nil for anything else.
    public var numericValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .double(let value): value.isFinite ? value : nil
        case .string(let text):
            Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        default: nil
        }
    }

    /// The JSON text of the value, object keys sorted.
    public var jsonText: String {
        switch self {
        case .string(let value): Self.quote(value)
        case .integer, .unsigned, .double, .bool: scalarString ?? "null"
        case .null: "null"
        case .array(let items): "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.keys.sorted().map { Self.quote($0) + ":" + members[$0]!.jsonText }.joined(separator: ",") + "}"
        }
    }

    private static func quote(_ value: String) -> String {
        guard let data = try? JSONEncoder().encode(value), let text = String(data: data, encoding: .utf8) else { return "\"\"" }
        return text
    }
}
