import Foundation

/// Which scopes a request ends up with: unknown ones are narrowed away (clients send their own, such as
/// `claudeai`), and nothing known left means the one scope, `mcp:tools`.
public enum ScopePolicy {
    /// The supported scopes of a space-separated `scope` parameter, or `mcp:tools` when none is left.
    public static func narrow(_ requested: String?) -> [String] {
        let words = (requested ?? "").split(separator: " ").map(String.init)
        var kept: [String] = []
        for word in words where AuthServerSettings.supportedScopes.contains(word) && !kept.contains(word) { kept.append(word) }
        return kept.isEmpty ? [AuthServerSettings.toolsScope] : kept
    }

    /// The scopes of a refresh: the requested ones when they are within `granted` (narrowing), all of `granted`
    /// when none is requested; asking for more than was granted is refused.
    public static func refresh(_ requested: String?, granted: [String]) throws(OAuthError) -> [String] {
        guard let requested, !requested.trimmingCharacters(in: .whitespaces).isEmpty else { return granted }
        let wanted = narrow(requested)
        guard wanted.allSatisfy(granted.contains) else {
            throw .invalidScope("A refresh can only keep or narrow the scopes granted (\(granted.joined(separator: " "))).")
        }
        return wanted
    }
}
