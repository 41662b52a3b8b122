import Foundation
import LatchkeyCore
import LatchkeyProviders

/// The problems ``IntegrationRules`` reports for the API (by field path: `clientId`, `scopes[1]`,
/// `settings.tokenURL`), said again for a person at the integration form: by form field, in plain words, an
/// unknown scope answered with the scopes the service knows.
enum IntegrationPageProblems {
    /// Form field id → what is wrong there and what to do. `form` holds a problem that belongs to no field.
    static func problems(_ error: LatchkeyError, provider: Provider?, scopes: [String]) -> [String: String] {
        var out: [String: String] = [:]
        func add(_ field: String, _ message: String) {
            if out[field] == nil { out[field] = message }
        }
        let name = provider?.displayName ?? "This service"
        if error.fields.isEmpty {
            add(error.code == .conflict ? "key" : "form", apiNamesReplaced(error.message))
            return out
        }
        var unknownScopes: [String] = []
        for field in error.fields {
            let path = field.path
            let message = field.message
            switch path {
            case "provider":
                add("provider", "Choose a service from the list.")
            case "key":
                add("key", "Use 1 to 64 lowercase letters, digits, dashes or underscores for the key, for example github-work.")
            case "clientId":
                if message.hasPrefix("is required") || message.hasPrefix("cannot be removed") {
                    add(
                        "clientId",
                        "Enter the client ID of the OAuth app registered at \(IntegrationPageForm.registrar(provider)); it cannot work without one."
                    )
                } else if message.hasPrefix("is only for OAuth") {
                    add("clientId", "\(name) does not use an OAuth client: leave the client ID empty.")
                } else {
                    add("clientId", "The client ID \(message).")
                }
            case "clientSecret":
                if message.hasPrefix("is only for OAuth") {
                    add("clientSecret", "\(name) does not use an OAuth client: leave the client secret empty.")
                } else {
                    add("clientSecret", "The client secret \(message).")
                }
            case "displayName":
                add("displayName", "Use a display name of 1 to 100 characters.")
            case "scopes":
                add("scopes", message.hasPrefix("are only for OAuth") ? "\(name) does not use scopes: leave this empty." : "The scopes \(message).")
            case _ where path.hasPrefix("scopes["):
                let index = Int(path.dropFirst("scopes[".count).dropLast()) ?? -1
                let scope = scopes.indices.contains(index) ? scopes[index] : ""
                if let known = provider?.oauth?.scopes, !known.isEmpty, !scope.isEmpty, known[scope] == nil {
                    unknownScopes.append(scope)
                } else {
                    add("scopes", "Write each scope as a name without spaces, separated by spaces.")
                }
            case _ where path.hasPrefix("settings."):
                let setting = String(path.dropFirst("settings.".count))
                let label = IntegrationPageForm.settingLabel(setting)
                let field = "setting-\(setting)"
                if let spec = provider?.integrationSettings?[setting] {
                    if message.hasPrefix("is required") {
                        add(field, "Enter the \(label.lowercasedFirst): \(spec.description.lowercasedFirst).")
                    } else if message.hasPrefix("The discovery document") {
                        add(field, apiNamesReplaced(message))
                    } else {
                        add(field, "The \(label.lowercasedFirst) \(apiNamesReplaced(message)).")
                    }
                } else {
                    add("form", "\(name) has no setting called \(setting.prefix(64)).")
                }
            default:
                add("form", apiNamesReplaced("\(path) \(message)"))
            }
        }
        if !unknownScopes.isEmpty, let known = provider?.oauth?.scopes {
            let quoted = unknownScopes.map { "“\($0.prefix(64))”" }.joined(separator: ", ")
            let noun = unknownScopes.count == 1 ? "scope" : "scopes"
            add("scopes", "\(name) has no \(noun) called \(quoted). The scopes it knows: \(known.keys.sorted().joined(separator: ", ")).")
        }
        return out
    }

    /// The API's names for settings, said as the form labels them.
    static func apiNamesReplaced(_ text: String) -> String {
        var text = text
        for name in ["authorizationURL", "tokenURL", "revocationURL", "userInfoURL", "apiBaseURL", "discoveryURL"] {
            text = text.replacingOccurrences(of: "settings.\(name)", with: IntegrationPageForm.settingLabel(name).lowercasedFirst)
            text = text.replacingOccurrences(of: name, with: IntegrationPageForm.settingLabel(name).lowercasedFirst)
        }
        return text.replacingOccurrences(of: "clientId", with: "client ID").replacingOccurrences(of: "clientSecret", with: "client secret")
    }
}

extension String {
    /// The text with its first letter in lower case, unless the first word is an abbreviation ("URL", "API").
    fileprivate var lowercasedFirst: String {
        let firstWord = prefix { !$0.isWhitespace }
        if firstWord.count > 1, firstWord.allSatisfy(\.isUppercase) { return self }
        return prefix(1).lowercased() + dropFirst()
    }
}
