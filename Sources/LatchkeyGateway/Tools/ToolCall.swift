public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient
public import LatchkeyProviders

/// The HTTP request a tool makes from a checked input (DESIGN §4 "Invoke"). Pure: no I/O.
///
/// The path template's `{field}` placeholders are filled with the values percent-encoded as one path segment each
/// (every character but the unreserved ones escaped, so `/`, `?`, `#` and `%` cannot change the URL's shape); a
/// value that is empty, `.` or `..`, or that would decode to a slash or backslash, is refused as the field's
/// problem, so a value can never add a segment or climb out of the template. The query and the body are built as
/// the catalog maps them.
public struct ToolCall: Sendable, Equatable {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    /// Relative to the provider's API base, percent-encoded, without a leading slash.
    public var path: String
    /// Percent-encoded, without `?`; nil when the tool sends no query.
    public var queryString: String?
    public var body: Data?
    /// The body's `Content-Type`; nil without a body.
    public var contentType: String?

    /// RFC 3986 unreserved characters: the only ones left as they are in a path segment or a query value.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The request `tool` makes with `input`, checked against the tool's schema first (defaults filled in).
    public init(tool: Tool, input: JSONValue?) throws(LatchkeyError) {
        try self.init(tool: tool, checked: try ToolInput(input, for: tool))
    }

    /// The request `tool` makes with an input already checked.
    public init(tool: Tool, checked input: ToolInput) throws(LatchkeyError) {
        guard let request = tool.request else {
            throw LatchkeyError(.internalError, "\(tool.name) answers from synced data; it makes no request.")
        }
        method = request.method
        path = try Self.fill(request.path, with: input.values, tool: tool)
        var query: [String] = []
        for (parameter, field) in (request.query ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let value = input.values[field], let text = Self.text(value) else { continue }
            query.append("\(Self.encode(parameter))=\(Self.encode(text))")
        }
        queryString = query.isEmpty ? nil : query.joined(separator: "&")
        (body, contentType) = Self.body(request.body, input.values)
    }

    /// The template with each `{name}` replaced by its value encoded as a single segment.
    static func fill(_ template: String, with values: [String: JSONValue], tool: Tool) throws(LatchkeyError) -> String {
        var result = ""
        var problems: [LatchkeyError.FieldError] = []
        var rest = Substring(template.hasPrefix("/") ? String(template.dropFirst()) : template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            let text = values[name].flatMap(Self.text) ?? ""
            if let problem = segmentProblem(text) {
                problems.append(.init(path: "input.\(name)", message: problem))
            } else {
                result += encode(text)
            }
            rest = rest[rest.index(after: close)...]
        }
        guard problems.isEmpty else {
            let listed = problems.map { "\($0.path): \($0.message)" }.joined(separator: "; ")
            throw LatchkeyError.invalidRequest("The input of \(tool.name) is not valid: \(listed).", fields: problems)
        }
        return result + rest
    }

    /// Why `value` cannot be one path segment; nil when it can.
    static func segmentProblem(_ value: String) -> String? {
        if value.isEmpty { return "must not be empty (it is part of the request's path)" }
        for form in ProxyTarget.decodedForms(value) {
            if form == "." || form == ".." { return "must not be . or .. (it is part of the request's path)" }
            if form.contains("/") || form.contains("\\") { return "must not contain / or \\ (it is one part of the request's path)" }
        }
        return nil
    }

    /// Every character but the unreserved ones percent-encoded.
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A scalar as text; an array as its elements' texts joined by commas (how query strings list values).
    static func text(_ value: JSONValue) -> String? {
        if case .array(let elements) = value { return elements.compactMap(\.scalarString).joined(separator: ",") }
        return value.scalarString
    }

    /// The body and its content type.
    static func body(_ mapping: ToolBody?, _ values: [String: JSONValue]) -> (Data?, String?) {
        guard let mapping else { return (nil, nil) }
        switch mapping.encoding ?? .json {
        case .raw:
            guard let field = mapping.rawField, case .string(let text)? = values[field] else { return (nil, nil) }
            return (Data(text.utf8), mapping.contentType)
        case .form:
            var fields: [(String, String)] = []
            for (path, value) in (mapping.constants ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let text = text(value.json) { fields.append((path, text)) }
            }
            for (path, field) in (mapping.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let value = values[field], let text = text(value) { fields.append((path, text)) }
            }
            return (FormEncoding.encode(fields), "application/x-www-form-urlencoded")
        case .json:
            var document = JSONValue.object([:])
            for (path, value) in (mapping.constants ?? [:]).sorted(by: { $0.key < $1.key }) {
                document = setting(value.json, at: path.split(separator: ".").map(String.init), in: document)
            }
            for (path, field) in (mapping.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let value = values[field] else { continue }
                document = setting(value, at: path.split(separator: ".").map(String.init), in: document)
            }
            return (Data(ToolJSON.bytes(document)), "application/json")
        }
    }

    /// `document` with `value` at `path`, objects made on the way.
    static func setting(_ value: JSONValue, at path: [String], in document: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var members: [String: JSONValue] = [:]
        if case .object(let existing) = document { members = existing }
        members[first] = setting(value, at: Array(path.dropFirst()), in: members[first] ?? .object([:]))
        return .object(members)
    }
}
