import Foundation

/// The shapes app settings must have. Each check returns the problem in plain words, or nil when the value is fine.
public enum AppRules {
    /// A name: 1 to 100 characters on one line.
    public static func nameProblem(_ name: String) -> String? {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "must not be empty" }
        if name.count > 100 { return "must be at most 100 characters" }
        if name.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false) }) {
            return "must be one line without control characters"
        }
        return nil
    }

    /// An accent colour: `#rrggbb`.
    public static func colorProblem(_ color: String) -> String? {
        let hex = color.dropFirst()
        guard color.first == "#", hex.count == 6, hex.allSatisfy(\.isHexDigit) else { return "must be a colour written #rrggbb" }
        return nil
    }

    /// A logo or privacy URL: absolute https with a host, no user info, at most 2,048 characters.
    public static func httpsURLProblem(_ text: String) -> String? {
        guard text.count <= 2048 else { return "must be at most 2048 characters" }
        guard !text.contains(where: { $0.isWhitespace || $0.isNewline }),
            let components = URLComponents(string: text), components.scheme?.lowercased() == "https",
            let host = components.host, !host.isEmpty
        else { return "must be an absolute https URL" }
        guard components.user == nil, components.password == nil else { return "must not contain a user name or password" }
        return nil
    }

    /// A redirect origin: `scheme://host[:port]` with scheme http or https, nothing after it (no path, query,
    /// fragment or user info). Returns the origin in its canonical lowercase form, or the problem.
    public static func origin(_ text: String) -> Result<String, OriginProblem> {
        guard text.count <= 300, !text.contains(where: { $0.isWhitespace || $0.isNewline }),
            let components = URLComponents(string: text), let scheme = components.scheme?.lowercased()
        else { return .failure(OriginProblem("must be an origin such as https://app.example.com")) }
        guard scheme == "https" || scheme == "http" else {
            return .failure(
                OriginProblem("must start with https:// or http:// (\(scheme == "javascript" ? "javascript: is never allowed" : "no other scheme"))")
            )
        }
        guard let host = components.host, !host.isEmpty else { return .failure(OriginProblem("must name a host")) }
        guard components.user == nil, components.password == nil, !text.contains("@") else {
            return .failure(OriginProblem("must not contain a user name or password"))
        }
        guard components.fragment == nil, components.query == nil, components.path.isEmpty else {
            return .failure(OriginProblem("must be only scheme://host[:port], without a path, query or #fragment"))
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return .success("\(scheme)://\(host.lowercased())\(port)")
    }

    /// Why an origin was refused.
    public struct OriginProblem: Error, Sendable, Equatable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }
}
