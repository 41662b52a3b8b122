public import Foundation
public import LatchkeyCore

/// Where a proxied call goes, and which headers cross the gateway (DESIGN §5.7). Pure: no I/O.
///
/// The outbound URL is the provider's API base URL followed by the caller's path and query. Anything that could
/// leave that base — an absolute or scheme-relative URL, `.` or `..` segments in any encoding (`%2e%2e`, `%2E.`,
/// double-encoded), encoded slashes or backslashes, user info, control characters — is refused with
/// `invalid_request` before any connection is made, and the result must have the base's scheme, host and port.
public enum ProxyTarget {
    /// How many rounds of percent-decoding are looked through for hidden `.`, `..`, `/` and `\`.
    static let decodingRounds = 4

    /// The URL `path` (percent-encoded, as it came in, relative to the base) and `query` (percent-encoded, without
    /// `?`) name under `base`.
    public static func url(base: URL, path: String, query: String?) throws(LatchkeyError) -> URL {
        if let problem = pathProblem(path) { throw LatchkeyError.invalidField("path", problem) }
        if let query, let problem = queryProblem(query) { throw LatchkeyError.invalidField("query", problem) }
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        if !path.isEmpty { text += "/" + path }
        if let query, !query.isEmpty { text += "?" + query }
        guard let url = URL(string: text), url.scheme == base.scheme, url.host == base.host, url.port == base.port,
            url.user == nil, url.password == nil, url.fragment == nil
        else { throw LatchkeyError.invalidField("path", "must stay on the provider's API host") }
        return url
    }

    /// Why `path` cannot be appended to a base URL, in plain words; nil when it can.
    static func pathProblem(_ path: String) -> String? {
        if isPlainPath(path) { return nil }
        if let problem = textProblem(path) { return problem }
        if path.contains("?") || path.contains("#") { return "must not contain ? or # (send the query string as the query)" }
        let schemeLike = path.prefix { $0 != "/" }
        if schemeLike.contains("@") { return "must not contain user info (name@host)" }
        if schemeLike.contains(":"), let first = schemeLike.first, first.isLetter,
            schemeLike.prefix(while: { $0 != ":" }).allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
        {
            return "must be a path on the provider's API, not an absolute URL"
        }
        if path.hasPrefix("/") { return "must not start with // (a URL on another host)" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty, index < segments.count - 1 { return "must not contain empty segments (//)" }
            for form in decodedForms(String(segment)) {
                if form == "." || form == ".." { return "must not contain . or .. segments, in any encoding" }
                if form.contains("/") || form.contains("\\") { return "must not contain encoded slashes or backslashes" }
                if form.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return "must not contain control characters" }
            }
        }
        return nil
    }

    /// Whether `path` is plainly safe, read once as bytes: only unreserved characters, sub-delimiters and `/`
    /// (no `%`, so no hidden form; no `:`, `@`, `?`, `#` or `\`), not starting with `/`, with no empty segment but a
    /// trailing one and no `.` or `..` segment. Anything else goes through every rule of ``pathProblem(_:)``, which
    /// also says what is wrong; for a plain path those rules find nothing.
    static func isPlainPath(_ path: String) -> Bool {
        var plain = true
        path.utf8.withContiguousStorageIfAvailable { bytes in
            guard let first = bytes.first, first != UInt8(ascii: "/") else {
                plain = bytes.isEmpty
                return
            }
            var segmentStart = 0
            for index in 0...bytes.count {
                let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
                if byte == UInt8(ascii: "/") {
                    let length = index - segmentStart
                    let isLast = index == bytes.count
                    if length == 0, !isLast { plain = false }
                    if length == 1, bytes[segmentStart] == UInt8(ascii: ".") { plain = false }
                    if length == 2, bytes[segmentStart] == UInt8(ascii: "."), bytes[segmentStart + 1] == UInt8(ascii: ".") { plain = false }
                    if !plain { return }
                    segmentStart = index + 1
                    continue
                }
                guard plainPathBytes[Int(byte)] else {
                    plain = false
                    return
                }
            }
        } ?? { plain = false }()
        return plain
    }

    /// The bytes ``isPlainPath(_:)`` accepts besides `/`: RFC 3986 unreserved characters and the sub-delimiters.
    private static let plainPathBytes: [Bool] = (0..<256).map { value in
        guard value < 0x80 else { return false }
        let character = Character(UnicodeScalar(UInt8(value)))
        return character.isLetter || character.isNumber || "-._~!$&'()*+,;=".contains(character)
    }

    /// Why `query` cannot be passed on, in plain words; nil when it can.
    static func queryProblem(_ query: String) -> String? {
        if let problem = textProblem(query) { return problem }
        if query.contains("#") { return "must not contain #" }
        return nil
    }

    /// `text` and its successive percent-decodings, up to ``decodingRounds`` deep, stopping when decoding changes
    /// nothing or the text is not valid percent-encoding.
    static func decodedForms(_ text: String) -> [String] {
        var forms = [text]
        var current = text
        for _ in 0..<decodingRounds {
            guard current.contains("%"), let decoded = current.removingPercentEncoding, decoded != current else { break }
            forms.append(decoded)
            current = decoded
        }
        return forms
    }

    private static func textProblem(_ text: String) -> String? {
        // ASCII first: spaces and controls are all below 0x21 there, and looking up Unicode properties costs more.
        if text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || (!$0.isASCII && $0.properties.isWhitespace) }) {
            return "must not contain control characters or spaces"
        }
        if text.contains("\\") { return "must not contain backslashes" }
        return nil
    }

    // MARK: Headers

    /// Request headers never passed on: the caller's credentials, addressing, forwarding, Latchkey's own and
    /// hop-by-hop headers, and the body framing (the client sets its own).
    static let droppedRequestHeaders: Set<String> = [
        "authorization", "cookie", "host", "forwarded", "content-length", "connection", "keep-alive", "te", "trailer",
        "transfer-encoding", "upgrade", "x-real-ip",
    ]

    /// Response headers never passed back: cookies, hop-by-hop headers and the body framing.
    static let droppedResponseHeaders: Set<String> = [
        "set-cookie", "set-cookie2", "content-length", "connection", "keep-alive", "te", "trailer", "transfer-encoding",
        "upgrade", "proxy-authenticate", "proxy-authentication-info",
    ]

    /// The caller's headers that may go to the provider.
    public static func requestHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let named = connectionNamed(headers)
        return headers.filter { header in
            let name = header.name.lowercased()
            return !droppedRequestHeaders.contains(name) && !named.contains(name) && !name.hasPrefix("x-forwarded-")
                && !name.hasPrefix("latchkey-") && !name.hasPrefix("proxy-")
        }
    }

    /// The provider's headers that may go back to the caller.
    public static func responseHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let named = connectionNamed(headers)
        return headers.filter { header in
            let name = header.name.lowercased()
            return !droppedResponseHeaders.contains(name) && !named.contains(name)
        }
    }

    /// The header names a `Connection` header lists (hop-by-hop by that listing).
    private static func connectionNamed(_ headers: [(name: String, value: String)]) -> Set<String> {
        var names: Set<String> = []
        for header in headers where header.name.lowercased() == "connection" {
            for token in header.value.split(separator: ",") {
                names.insert(token.trimmingCharacters(in: .whitespaces).lowercased())
            }
        }
        return names
    }
}
