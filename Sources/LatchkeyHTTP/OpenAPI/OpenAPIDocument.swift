public import Foundation

/// The OpenAPI document shipped with the binary failed to load, naming where it is wrong.
public struct OpenAPIDocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer of the part at fault, e.g. `/paths/~1api~1v1~1audit/get`; empty when the whole document is.
    public var pointer: String
    /// What is wrong, in plain words.
    public var message: String

    /// Creates an error at `pointer`.
    public init(pointer: String, message: String) {
        self.pointer = pointer
        self.message = message
    }

    /// `openapi.json: pointer: message`.
    public var description: String {
        pointer.isEmpty ? "openapi.json: \(message)" : "openapi.json: \(pointer): \(message)"
    }
}

/// The OpenAPI 3.1 description of `/api/v1`, served at `/openapi.json` and printed by `latchkey openapi`.
/// It is the data file `openapi.json` next to this file, shipped as a resource of the module, loaded and checked
/// once; a test checks it against the router in both directions.
public enum OpenAPIDocument {
    private static let shipped = Result { () throws(OpenAPIDocumentError) -> Data in try load() }

    private static func load() throws(OpenAPIDocumentError) -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw OpenAPIDocumentError(pointer: "", message: "the OpenAPI document is missing from the bundle")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw OpenAPIDocumentError(pointer: "", message: "the OpenAPI document cannot be read (\(error.localizedDescription))")
        }
        try validate(data)
        return data
    }

    /// The shipped document as served; throws when it is missing or not valid (`latchkey serve` checks this at start).
    public static func data() throws(OpenAPIDocumentError) -> Data {
        try shipped.get()
    }

    /// The shipped document as text.
    public static func text() throws(OpenAPIDocumentError) -> String {
        String(decoding: try data(), as: UTF8.self)
    }

    /// Checks that `data` is an OpenAPI 3.1 document this server can serve: a JSON object with `openapi` 3.1.x,
    /// `info.title` and `info.version`, `paths` whose operations each have responses, and every local `$ref`
    /// pointing at something that exists.
    public static func validate(_ data: Data) throws(OpenAPIDocumentError) {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw OpenAPIDocumentError(pointer: "", message: "is not valid JSON (\(error.localizedDescription))")
        }
        guard let root = parsed as? [String: Any] else {
            throw OpenAPIDocumentError(pointer: "", message: "must be a JSON object")
        }
        guard let version = root["openapi"] as? String, version.hasPrefix("3.1.") else {
            throw OpenAPIDocumentError(pointer: "/openapi", message: "must be an OpenAPI 3.1 version such as \"3.1.0\"")
        }
        let info = root["info"] as? [String: Any]
        for field in ["title", "version"] where (info?[field] as? String ?? "").isEmpty {
            throw OpenAPIDocumentError(pointer: "/info/\(field)", message: "must be a non-empty string")
        }
        guard let paths = root["paths"] as? [String: Any], !paths.isEmpty else {
            throw OpenAPIDocumentError(pointer: "/paths", message: "must be an object with at least one path")
        }
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            let pointer = "/paths/" + escaped(path)
            guard path.hasPrefix("/"), let operations = item as? [String: Any] else {
                throw OpenAPIDocumentError(pointer: pointer, message: "must start with / and hold an object of operations")
            }
            for (method, operation) in operations where methods.contains(method) {
                guard let responses = (operation as? [String: Any])?["responses"] as? [String: Any], !responses.isEmpty else {
                    throw OpenAPIDocumentError(pointer: "\(pointer)/\(method)/responses", message: "must list at least one response")
                }
            }
        }
        try checkReferences(in: root, at: "", root: root)
    }

    private static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    private static func checkReferences(in value: Any, at pointer: String, root: [String: Any]) throws(OpenAPIDocumentError) {
        if let object = value as? [String: Any] {
            if let reference = object["$ref"] as? String, reference.hasPrefix("#/") {
                guard resolve(reference.dropFirst(2), in: root) != nil else {
                    throw OpenAPIDocumentError(pointer: pointer + "/$ref", message: "\(reference) points at nothing in the document")
                }
            }
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                try checkReferences(in: member, at: pointer + "/" + escaped(key), root: root)
            }
        } else if let array = value as? [Any] {
            for (index, member) in array.enumerated() {
                try checkReferences(in: member, at: "\(pointer)/\(index)", root: root)
            }
        }
    }

    private static func resolve(_ reference: Substring, in root: [String: Any]) -> Any? {
        var current: Any = root
        for token in reference.split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = (current as? [String: Any])?[key] else { return nil }
            current = next
        }
        return current
    }

    private static func escaped(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
