import Foundation

extension String {
    /// `trimmingCharacters(in: .whitespaces)`, without the bridging when there is nothing to trim (the usual case on
    /// the hot paths: every token call trims its integration key).
    public func trimmingWhitespace() -> String {
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return self }
        let whitespace = CharacterSet.whitespaces
        if !whitespace.contains(first), !whitespace.contains(last) { return self }
        return trimmingCharacters(in: whitespace)
    }
}
