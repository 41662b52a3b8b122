public import Foundation

/// A catalog entry that failed to load, naming the file and the field at fault.
public struct CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data file, e.g. `github.json`.
    public var file: String
    /// Dotted path of the field, e.g. `oauth.tokenURL`; empty when the whole file is at fault.
    public var field: String
    /// What is wrong, in plain words.
    public var message: String

    /// Creates an error for `file` and `field`.
    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    /// `file: field: message`.
    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)"
    }
}

/// The set of providers Latchkey knows, loaded from data files and validated.
public struct ProviderCatalog: Sendable {
    private let byID: [String: Provider]

    /// Every provider, sorted by display name.
    public let all: [Provider]

    /// Loads the catalog shipped with the binary.
    public static func bundled() throws -> ProviderCatalog {
        guard let directory = Bundle.module.url(forResource: "Catalog", withExtension: nil) else {
            throw CatalogError(file: "Catalog", field: "", message: "the provider catalog is missing from the bundle")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        guard !names.isEmpty else {
            throw CatalogError(file: "Catalog", field: "", message: "no provider files found in the bundle")
        }
        var files: [String: Data] = [:]
        for name in names {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return try ProviderCatalog(files: files)
    }

    /// Loads and validates providers from file contents keyed by file name (`<id>.json`).
    public init(files: [String: Data]) throws {
        var byID: [String: Provider] = [:]
        var fileOfID: [String: String] = [:]
        for name in files.keys.sorted() {
            let provider = try Self.load(file: name, data: files[name]!)
            if let other = fileOfID[provider.id] {
                throw CatalogError(file: name, field: "id", message: "duplicate provider id '\(provider.id)', also defined in \(other)")
            }
            guard name == "\(provider.id).json" else {
                throw CatalogError(file: name, field: "id", message: "'\(provider.id)' does not match the file name")
            }
            fileOfID[provider.id] = name
            byID[provider.id] = provider
        }
        self.byID = byID
        self.all = byID.values.sorted {
            ($0.displayName.lowercased(), $0.id) < ($1.displayName.lowercased(), $1.id)
        }
    }

    /// The provider with this id, if the catalog has it.
    public func provider(id: String) -> Provider? {
        byID[id]
    }

    static func load(file: String, data: Data) throws -> Provider {
        guard file.hasSuffix(".json") else {
            throw CatalogError(file: file, field: "", message: "provider files must end in .json")
        }
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CatalogError(file: file, field: "", message: "not valid JSON")
        }
        guard raw is [String: Any] else {
            throw CatalogError(file: file, field: "", message: "must be a JSON object")
        }
        let provider: Provider
        do {
            provider = try JSONDecoder().decode(Provider.self, from: data)
        } catch let error as DecodingError {
            throw CatalogError(file: file, decoding: error)
        }
        // Strict decoding: every key in the file must survive a round trip through the model.
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(provider))
        if let problem = unknownKey(in: raw, known: encoded, path: []) {
            throw CatalogError(file: file, field: Self.namingTool(problem.field, of: provider), message: problem.message)
        }
        try ProviderValidator(file: file, provider: provider).validate()
        return provider
    }

    private static func unknownKey(in raw: Any, known: Any, path: [String]) -> (field: String, message: String)? {
        if let object = raw as? [String: Any] {
            let knownObject = known as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let field = (path + [key]).joined(separator: ".")
                let value = object[key]!
                if value is NSNull {
                    return (field, "null is not allowed; leave the key out instead")
                }
                guard let knownValue = knownObject[key] else {
                    return (field, "unknown key")
                }
                if let problem = unknownKey(in: value, known: knownValue, path: path + [key]) {
                    return problem
                }
            }
        } else if let array = raw as? [Any], let knownArray = known as? [Any] {
            for (index, element) in array.enumerated() where index < knownArray.count {
                let last = (path.last ?? "") + "[\(index)]"
                if let problem = unknownKey(in: element, known: knownArray[index], path: path.dropLast() + [last]) {
                    return problem
                }
            }
        }
        return nil
    }
}

extension CatalogError {
    init(file: String, decoding error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String {
            var parts: [String] = []
            for key in keys {
                if let index = key.intValue, !parts.isEmpty {
                    parts[parts.count - 1] += "[\(index)]"
                } else {
                    parts.append(key.stringValue)
                }
            }
            return parts.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(file: file, field: path(context.codingPath + [key]), message: "is required")
        case .typeMismatch(let type, let context):
            self.init(file: file, field: path(context.codingPath), message: "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            self.init(file: file, field: path(context.codingPath), message: "expected \(Self.describe(type)), found null")
        case .dataCorrupted(let context):
            self.init(file: file, field: path(context.codingPath), message: "unsupported value")
        @unknown default:
            self.init(file: file, field: "", message: "could not be read")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "a whole number"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}
