import LatchkeyCore

/// The banner a person sees at the top of their Connection Center and of the overview while a credential of theirs
/// needs reconnecting (the provider refused its refresh or revoked access, or it expired with nothing to refresh
/// it): each service named, with the way to reconnect it.
enum ReauthBanner {
    /// On the Connection Center, Reconnect is the card's own form (its CSP lets it go on to the provider); elsewhere
    /// it is a link to the card.
    static let template = """
        {{#reauthBanner}}<div class="error reauth-banner" role="alert" id="reauth-banner"><p><strong>{{heading}}</strong></p><ul>
        {{#items}}<li class="reauth" data-credential-id="{{id}}" data-integration="{{integration}}">{{text}}
        {{#form}}<form method="post" action="/connections/{{id}}/reconnect" class="reauth-form"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="reconnect-now">Reconnect {{service}}</button></form>{{/form}}
        {{^form}}<a class="reconnect-link" href="/connections#connection-{{id}}">Reconnect {{service}}</a>{{/form}}</li>{{/items}}
        </ul></div>{{/reauthBanner}}
        """

    /// The banner's view of `credentials`, nil (no banner) when none needs reconnecting. `name` gives a service's
    /// name from its integration key; `csrf` puts a Reconnect form in each line instead of a link.
    static func context(_ credentials: [Credential], name: (String) -> String, csrf: String?) -> [String: Any]? {
        let items: [[String: Any]] = credentials.filter { $0.status == .needsReauth || $0.status == .expired }.map { credential in
            let service = name(credential.integrationKey)
            let account = credential.providerAccount.map { " (\($0))" } ?? ""
            let text =
                credential.status == .expired
                ? "Your \(service) connection\(account) expired."
                : "Your \(service) connection\(account) stopped working: \(service) needs you to sign in again."
            var item: [String: Any] = ["id": credential.id, "integration": credential.integrationKey, "service": service, "text": text]
            if let csrf { item["form"] = ["csrf": csrf] }
            return item
        }
        guard !items.isEmpty else { return nil }
        let heading = items.count == 1 ? "A connection needs you to reconnect it" : "\(items.count) connections need you to reconnect them"
        return ["heading": heading, "items": items]
    }
}
