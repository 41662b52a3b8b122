import Foundation
import Hummingbird
import LatchkeyCore
import NIOCore

/// JSON in and out, with the wire conventions of the API: bodies up to 1 MiB, unknown fields refused, every
/// problem reported field by field.
enum JSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        // Sorted keys: the same value always reads the same, so responses diff cleanly.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// A JSON response.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try encoder.encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Reads and decodes a JSON object body whose keys must all be in `T.allowedKeys`.
    static func decode<T: Decodable & AllowedKeys>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        try decode(type, from: try await collect(request, limit: limit))
    }

    /// Like `decode`, for an optional body: nil when the request has none (or only white space).
    static func decodeIfPresent<T: Decodable & AllowedKeys>(_ type: T.Type, from request: Request, limit: Int) async throws -> T? {
        let buffer = try await collect(request, limit: limit)
        guard buffer.readableBytesView.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
        return try decode(type, from: buffer)
    }

    /// Like `decode`, for a body of string fields only: a flat object of known string keys is read directly
    /// (`FlatJSONStrings`); anything else goes the general way, with its errors.
    static func decodeFlat<T: FlatStringBody>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer = try await collect(request, limit: limit)
        if let strings = FlatJSONStrings.parse(buffer), strings.keys.allSatisfy(T.allowedKeys.contains), let body = T(strings: strings) {
            return body
        }
        return try decode(type, from: buffer)
    }

    private static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw LatchkeyError.payloadTooLarge(limit: limit)
        }
    }

    private static func decode<T: Decodable & AllowedKeys>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw LatchkeyError.invalidRequest("The request needs a JSON object body.") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw LatchkeyError.invalidRequest("The body is not valid JSON.")
        }
        guard let dictionary = object as? [String: Any] else { throw LatchkeyError.invalidRequest("The body must be a JSON object.") }
        let unknown = dictionary.keys.filter { !T.allowedKeys.contains($0) }.map(FieldName.safe).sorted()
        if !unknown.isEmpty {
            throw LatchkeyError.invalidRequest(
                "The body has fields this endpoint does not know: \(unknown.joined(separator: ", ")). Known fields: \(T.allowedKeys.sorted().joined(separator: ", ")).",
                fields: unknown.map { .init(path: $0, message: "is not a known field") }
            )
        }
        let nulls = dictionary.filter { $0.value is NSNull && !T.nullableKeys.contains($0.key) }.map(\.key).sorted()
        if !nulls.isEmpty {
            throw LatchkeyError.invalidRequest(
                "The body has null for fields that take no null: \(nulls.joined(separator: ", ")). Leave a field out instead of sending null.",
                fields: nulls.map { .init(path: $0, message: "must not be null (leave it out instead)") }
            )
        }
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw fieldError(error)
        }
    }

    static func fieldError(_ error: DecodingError) -> LatchkeyError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let full = path(context.codingPath + [key])
            return .invalidField(full, "is required")
        case .typeMismatch(let type, let context):
            return .invalidField(path(context.codingPath), "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return .invalidField(path(context.codingPath), "must be \(describe(type)), not null")
        case .dataCorrupted(let context):
            let where_ = path(context.codingPath)
            return where_.isEmpty
                ? .invalidRequest("The body is not valid JSON.")
                : .invalidField(where_, context.debugDescription.contains("Date") ? "must be an ISO 8601 date-time" : "has an invalid value")
        @unknown default:
            return .invalidRequest("The body could not be read.")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type, is [Any].Type: "an array of strings"
        case is Date.Type: "an ISO 8601 date-time"
        default: "of another type"
        }
    }
}

/// A request body that lists the keys it accepts, and the few that take `null`.
protocol AllowedKeys {
    static var allowedKeys: Set<String> { get }
    /// Keys whose `null` means something (e.g. "clear it"); `null` for any other key is refused.
    static var nullableKeys: Set<String> { get }
}

extension AllowedKeys {
    static var nullableKeys: Set<String> { [] }
}

/// A request body whose fields are all strings, made from a flat object of them (`JSON.decodeFlat`): nil when a
/// required field is missing, so that the general path reports it.
protocol FlatStringBody: Decodable, AllowedKeys {
    init?(strings: [String: String])
}

/// The list envelope of every collection.
struct ListEnvelope<Item: Encodable>: Encodable {
    var items: [Item]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor }
}

extension Request {
    /// `?limit=` between 1 and `maximum` (default 50 when it is not in the query; an empty value is refused).
    func limit(default defaultValue: Int = 50, maximum: Int = 200) throws -> Int {
        guard let text = uri.queryParameters["limit"] else { return defaultValue }
        guard let value = Int(String(text)), (1...maximum).contains(value) else {
            throw LatchkeyError.invalidField("limit", "must be a whole number from 1 to \(maximum)")
        }
        return value
    }

    func query(_ name: String) -> String? {
        guard let value = uri.queryParameters[name[...]], !value.isEmpty else { return nil }
        return String(value)
    }

    /// `?name=` when it is in the query at all, one of `allowed`; an empty value is refused like any other.
    func query<Value: RawRepresentable<String>>(_ name: String, oneOf allowed: [Value]) throws -> Value? {
        guard let text = uri.queryParameters[name[...]] else { return nil }
        guard let value = Value(rawValue: String(text)) else {
            throw LatchkeyError.invalidField(name, "must be one of \(allowed.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// `?name=` when it is in the query at all, a UUID (answered lowercase); anything else is refused.
    func queryUUID(_ name: String, what: String) throws -> String? {
        guard let text = uri.queryParameters[name[...]] else { return nil }
        guard let uuid = UUID(uuidString: String(text)) else { throw LatchkeyError.invalidField(name, "is not a valid \(what) id") }
        return uuid.uuidString.lowercased()
    }
}

/// Ids in paths are lowercase UUIDs; anything else is refused before it reaches the database.
enum PathID {
    static func parse(_ context: some RequestContext, _ name: String = "id", what: String) throws -> String {
        guard let raw = context.parameters.get(name), let uuid = UUID(uuidString: raw) else {
            throw LatchkeyError.invalidField(name, "is not a valid \(what) id")
        }
        return uuid.uuidString.lowercased()
    }
}
