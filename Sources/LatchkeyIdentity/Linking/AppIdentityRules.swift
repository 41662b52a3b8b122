import Foundation

/// What an app may say about one of its users when it asks who they are (`POST /api/v1/identities/resolve`, the
/// `identity` of a tool call or proxy request): the namespace of its accounts (`slack`) and the account's id there
/// (`T1/U2`), optionally a name to show. Each check returns the problem in plain words, nil when the value is fine.
public enum AppIdentityRules {
    /// The longest subject and display name.
    public static let maximumSubjectLength = 200
    /// Namespaces Latchkey uses for the ways people sign in themselves: an app never vouches for those.
    public static let reservedProviders: Set<String> = ["password", "email", "passkey", "oidc", "social", "app", "latchkey"]

    /// A short lower-case namespace: a letter, then letters, digits, `-` or `_`, at most 32 characters.
    public static func providerProblem(_ provider: String) -> String? {
        let scalars = Array(provider.unicodeScalars)
        guard let first = scalars.first, first.properties.isLowercase, first.isASCII, scalars.count <= 32,
            scalars.allSatisfy({ ($0.isASCII && $0.properties.isLowercase) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
        else {
            return "must be a short lower-case name for the kind of account, such as slack (a letter, then letters, digits, - or _; at most 32)"
        }
        if reservedProviders.contains(provider) { return "is a name Latchkey keeps for its own ways to sign in; use your app's, such as slack" }
        return nil
    }

    /// 1 to 200 printable characters (no control characters).
    public static func subjectProblem(_ subject: String) -> String? {
        printableProblem(subject, what: "the account's id in that namespace, such as T1/U2")
    }

    /// Like the subject, when given.
    public static func displayNameProblem(_ displayName: String) -> String? {
        printableProblem(displayName, what: "a name to show, such as Alice")
    }

    private static func printableProblem(_ value: String, what: String) -> String? {
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { return "must not be empty: \(what)" }
        guard value.count <= maximumSubjectLength else { return "must be at most \(maximumSubjectLength) characters" }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
        else { return "must be printable characters only" }
        return nil
    }
}
