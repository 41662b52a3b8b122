import Foundation
import LatchkeyCore
import LatchkeyProviders
import LatchkeyStorage

/// The integration form of the Integrations pages: what was typed (shown again next to a problem; the client secret
/// never is), the fields a service needs, and the problems the API's rules found, in the words of the form.
struct IntegrationPageForm {
    var provider = ""
    var key = ""
    var displayName = ""
    var clientID = ""
    /// Typed on this request only: never put back into a page.
    var clientSecret = ""
    var scopes = ""
    var settings: [String: String] = [:]
    var enabled = true

    init() {}

    init(_ form: WebForm, settingNames: [String]) {
        provider = form.trimmed("provider")
        key = form.trimmed("key")
        displayName = form.trimmed("displayName")
        clientID = form.trimmed("clientId")
        clientSecret = form["clientSecret"] ?? ""
        scopes = form.trimmed("scopes")
        for name in settingNames { settings[name] = form.trimmed("setting-\(name)") }
        enabled = form["status"].map { $0 != "disabled" } ?? true
    }

    /// The integration as stored (settings the service takes only: not endpoints read from a discovery document).
    init(_ integration: Integration) {
        provider = integration.provider
        key = integration.key
        displayName = integration.displayName ?? ""
        clientID = integration.clientID ?? ""
        scopes = integration.scopes.joined(separator: " ")
        settings = integration.settings
        enabled = integration.enabled
    }

    /// Scopes as typed: separated by spaces or commas.
    var scopeList: [String] {
        scopes.split(whereSeparator: { $0 == " " || $0 == "," || $0.isNewline }).map(String.init)
    }

    /// One field as the templates render it: a label, the value typed, and its problem if it has one.
    static func field(
        _ id: String,
        label: String,
        hint: String? = nil,
        type: String = "text",
        value: String = "",
        required: Bool = false,
        problems: [String: String]
    ) -> [String: Any] {
        // Every key the field template reads is set, so that Mustache never finds one in an enclosing context.
        var field: [String: Any] = [
            "id": id, "label": label, "type": type, "value": value, "required": required, "password": false,
            // No autofill: a secret is new, an address names no token a browser keeps, other fields say "off".
            "autocomplete": type == "password" ? "new-password" : type == "url" ? false : "off",
            "autofocus": false, "hint": hint ?? false, "error": problems[id] ?? false,
        ]
        if type == "password" {
            field["value"] = nil
            field["password"] = true
        }
        return field
    }

    /// The field of one setting of a service (`authorizationURL` becomes `setting-authorizationURL`).
    static func settingField(_ name: String, _ spec: IntegrationSetting, value: String, problems: [String: String]) -> [String: Any] {
        field(
            "setting-\(name)",
            label: settingLabel(name),
            hint: spec.required ? spec.description : "optional; \(spec.description.prefix(1).lowercased() + spec.description.dropFirst())",
            type: spec.isURL ? "url" : "text",
            value: value,
            required: spec.required,
            problems: problems
        )
    }

    /// Where the OAuth app is registered, in words: the service's name, or "your provider" for a generic one.
    static func registrar(_ provider: Provider?) -> String {
        guard let provider else { return "the provider" }
        return provider.oauth?.configurableEndpoints == true ? "your provider" : provider.displayName
    }

    /// A setting's name as a person reads it: `authorizationURL` → "Authorization URL".
    static func settingLabel(_ name: String) -> String {
        switch name {
        case "authorizationURL": return "Authorization URL"
        case "tokenURL": return "Token URL"
        case "revocationURL": return "Revocation URL"
        case "userInfoURL": return "User info URL"
        case "apiBaseURL": return "API base URL"
        case "discoveryURL": return "Discovery URL"
        default:
            var words = ""
            for character in name {
                if character.isUppercase, !words.isEmpty, words.last?.isUppercase == false { words.append(" ") }
                words.append(character)
            }
            return words.prefix(1).uppercased() + words.dropFirst()
        }
    }

    /// Marks the first field with a problem to take the focus; without problems, the first field when `orFirst` (a
    /// form to fill in), none otherwise (a page to read first, whose fields come further down).
    static func focusingFirst(_ fields: [[String: Any]], problems: [String: String], orFirst: Bool = true) -> [[String: Any]] {
        var fields = fields
        guard let index = fields.firstIndex(where: { $0["error"] is String }) ?? (orFirst ? 0 : nil) else { return fields }
        if fields.indices.contains(index) { fields[index]["autofocus"] = true }
        return fields
    }

    /// The problems in the order of the form's fields (`order`), each linking to its field when the form has it.
    static func summary(_ problems: [String: String], order: [String]) -> [[String: Any]] {
        let ordered = ["form"] + order.filter { problems[$0] != nil } + problems.keys.filter { !order.contains($0) && $0 != "form" }.sorted()
        return ordered.compactMap { field in
            problems[field].map { ["field": field, "message": $0, "link": order.contains(field)] }
        }
    }
}
