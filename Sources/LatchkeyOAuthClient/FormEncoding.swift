public import Foundation

/// `application/x-www-form-urlencoded`, as used by token requests (RFC 6749 appendix B).
public enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Encodes one name or value: unreserved characters stay, a space becomes `+`, everything else is percent-encoded.
    public static func encode(_ value: String) -> String {
        let escaped = value.addingPercentEncoding(withAllowedCharacters: unreserved.union(CharacterSet(charactersIn: " "))) ?? ""
        return escaped.replacingOccurrences(of: " ", with: "+")
    }

    /// Encodes fields in order.
    public static func encode(_ fields: [(String, String)]) -> Data {
        Data(fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&").utf8)
    }

    /// Decodes one encoded name or value; nil when the percent escapes are broken.
    public static func decode(_ value: Substring) -> String? {
        value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Decodes a form body into fields; the first value of a repeated name wins. Nil when it is not a form body.
    public static func decodeFields(_ data: Data) -> [String: String]? {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }
}

extension Data {
    /// Decodes base64url with or without padding.
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
