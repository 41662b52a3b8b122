import Foundation

/// What a person typed into a connect form, by field name (the first value of each).
public struct ConnectFormValues: Sendable {
    public let fields: [String: String]

    public init(_ fields: [String: String]) {
        self.fields = fields
    }

    public subscript(_ name: String) -> String? { fields[name] }

    /// The value without surrounding white space; empty when missing.
    public func trimmed(_ name: String) -> String { (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
}
