import Foundation
public import LatchkeyCore
import LatchkeyProviders

/// What a person types before connecting: an API key or a user name and secret, and per-account values such as a
/// Shopify shop or a Zendesk subdomain. Built from the catalog entry.
public struct ConnectForm: Sendable {
    public struct Field: Sendable {
        public var name: String
        public var label: String
        public var hint: String?
        public var isSecret: Bool
        public var pattern: String?
    }

    public var key: String
    public var serviceName: String
    public var intro: String
    public var fields: [Field]
    public var reconnect: String?

    /// The form for `service`, from its catalog entry.
    public init(service: ConnectService.Service, reconnect: String?) {
        let provider = service.provider
        key = service.integration.key
        serviceName = service.name
        self.reconnect = reconnect
        var fields: [Field] = []
        for (name, parameter) in (provider.templateParameters ?? [:]).sorted(by: { $0.key < $1.key })
        where parameter.source == .user && parameter.defaultValue == nil {
            fields.append(
                Field(
                    name: "template_\(name)",
                    label: parameter.description,
                    hint: "for example \(parameter.example)",
                    isSecret: false,
                    pattern: parameter.pattern
                )
            )
        }
        switch provider.authMode {
        case .apiKey:
            fields.append(Field(name: "api_key", label: provider.apiKey?.keyLabel ?? "API key", hint: nil, isSecret: true, pattern: nil))
            intro = "Paste your \(service.name) \(provider.apiKey?.keyLabel ?? "API key"). It is stored encrypted and used only on your behalf."
        case .basic:
            fields.append(Field(name: "username", label: provider.apiKey?.usernameLabel ?? "User name", hint: nil, isSecret: false, pattern: nil))
            fields.append(Field(name: "password", label: provider.apiKey?.passwordLabel ?? "Password", hint: nil, isSecret: true, pattern: nil))
            intro = "Enter your \(service.name) details. They are stored encrypted and used only on your behalf."
        case .oauth2, .oauth2ClientCredentials:
            intro = "\(service.name) needs to know which account to connect before you sign in there."
        }
        self.fields = fields
    }

    /// Every field is present and not blank.
    public func isFilled(_ form: ConnectFormValues) -> Bool {
        fields.allSatisfy { !form.trimmed($0.name).isEmpty }
    }

    /// The per-account values (`template_*` fields) by parameter name.
    public func templateValues(_ form: ConnectFormValues) -> [String: String] {
        var out: [String: String] = [:]
        for field in fields where field.name.hasPrefix("template_") {
            out[String(field.name.dropFirst("template_".count))] = form.trimmed(field.name)
        }
        return out
    }

    /// The secret the form carries (API key, or user name and password).
    public func secret(_ form: ConnectFormValues) -> CredentialSecret {
        CredentialSecret(
            apiKey: fields.contains { $0.name == "api_key" } ? form.trimmed("api_key") : nil,
            username: fields.contains { $0.name == "username" } ? form.trimmed("username") : nil,
            password: fields.contains { $0.name == "password" } ? form["password"] : nil
        )
    }
}

/// The form was filled in but its values did not work; the form is shown again with the reason.
public struct ConnectFormError: Error, Sendable {
    public var spec: ConnectForm
    public var message: String
}
