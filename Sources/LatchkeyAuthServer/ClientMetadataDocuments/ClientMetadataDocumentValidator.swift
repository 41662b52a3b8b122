public import Foundation
import LatchkeyOAuthClient

/// The rules of draft-ietf-oauth-client-id-metadata-document (and the MCP authorization spec) for a `client_id` that is
/// a URL and for the document found there. No I/O: ``ClientMetadataDocumentFetcher`` fetches, this judges.
public enum ClientMetadataDocumentValidator {
    /// Authentication methods that need a shared secret, which a published document cannot carry.
    static let secretMethods: Set<String> = ["client_secret_basic", "client_secret_post", "client_secret_jwt"]
    /// The longest `client_id` URL fetched.
    public static let maxClientIDLength = 2048

    /// The URL to fetch for `clientID`: https with a host and a path, no fragment, no user name or password, no `.` or
    /// `..` path segment, at most ``maxClientIDLength`` bytes. Plain http only to a loopback host, and only when
    /// `allowPrivateNetwork` (the https-less local test mode); a query is allowed, as the draft allows it.
    public static func documentURL(for clientID: String, allowPrivateNetwork: Bool) throws(ClientMetadataDocumentError) -> URL {
        func refuse(_ problem: String) -> ClientMetadataDocumentError { .invalidClientID(clientID, problem: problem) }
        guard clientID.utf8.count <= maxClientIDLength else { throw refuse("it is longer than \(maxClientIDLength) characters") }
        if OutboundPolicy.textProblem(clientID) != nil { throw refuse("it contains a space or a control character") }
        guard let components = URLComponents(string: clientID), let url = components.url, let scheme = components.scheme?.lowercased()
        else { throw refuse("it is not a URL") }
        guard let host = components.host, !host.isEmpty else { throw refuse("it must be an https URL with a host") }
        switch scheme {
        case "https": break
        case "http" where isLoopback(host) && allowPrivateNetwork: break
        case "http" where isLoopback(host):
            throw refuse("plain http is accepted only for this machine's own address, and only when Latchkey runs with --allow-private-network")
        default: throw refuse("it must start with https://")
        }
        if components.percentEncodedUser != nil || components.percentEncodedPassword != nil {
            throw refuse("it must not contain a user name or password")
        }
        if components.fragment != nil { throw refuse("it must not contain a fragment (#)") }
        if let problem = OutboundPolicy.hostProblem(components.percentEncodedHost ?? host) { throw refuse(problem) }
        let path = components.percentEncodedPath
        guard path.count > 1 else { throw refuse("it must have a path, such as https://app.example/oauth/client.json") }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
        if segments.contains(".") || segments.contains("..") { throw refuse("its path must not contain \".\" or \"..\" segments") }
        return url
    }

    /// The document in `body`, fetched from `clientID`: a JSON object whose `client_id` is `clientID` exactly, with a
    /// non-empty list of usable `redirect_uris`, no secret, and `token_endpoint_auth_method` absent or `none` — or
    /// another method that needs no secret when `token_endpoint_auth_methods_supported` also lists `none` (ChatGPT's
    /// document advertises `private_key_jwt` that way); such a client is treated as `none`. `client_uri` and `logo_uri`
    /// are kept only when they are https URLs (they are shown to the person); a bad one is dropped, not fatal.
    public static func document(from body: Data, clientID: String) throws(ClientMetadataDocumentError) -> ClientMetadataDocument {
        guard case .object(let fields) = JSONValue.parse(body) else { throw .invalidDocument("it is not a JSON object") }
        guard case .string(let documentID) = fields["client_id"] else { throw .invalidDocument("it has no client_id") }
        guard documentID == clientID else {
            throw .invalidDocument(
                "its client_id is not exactly the address it was fetched from (\(ClientMetadataDocumentError.shortened(clientID)))"
            )
        }
        try checkAuthentication(fields)
        let redirectURIs = try redirectURIs(fields["redirect_uris"])
        var clientName: String?
        switch fields["client_name"] {
        case nil, .null: break
        case .string(let name):
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            clientName = trimmed.isEmpty ? nil : trimmed
        default: throw .invalidDocument("its client_name is not text")
        }
        return ClientMetadataDocument(
            clientID: clientID,
            clientName: clientName,
            clientURI: displayURI(fields["client_uri"]),
            logoURI: displayURI(fields["logo_uri"]),
            redirectURIs: redirectURIs
        )
    }

    /// Why `uri` cannot be a redirect URI of a client described by a metadata document, or nil when it can: https with
    /// a host, or http to a loopback host (a native app's local listener); no fragment, user info, space or control
    /// character.
    public static func redirectURIProblem(_ uri: String) -> String? {
        if OutboundPolicy.textProblem(uri) != nil { return "it contains a space or a control character" }
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased() else { return "it is not a URL" }
        guard let host = components.host, !host.isEmpty else { return "it has no host" }
        guard scheme == "https" || (scheme == "http" && isLoopback(host)) else { return "it is neither https nor http to this machine" }
        if components.percentEncodedUser != nil || components.percentEncodedPassword != nil { return "it contains a user name or password" }
        if components.fragment != nil { return "it contains a fragment (#)" }
        return nil
    }

    /// Whether `host` (a URL host, brackets allowed) is this machine: `localhost`, 127.0.0.0/8 or `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        switch AddressClassifier.host(host) {
        case .thisMachine: return true
        case .address(let address):
            let bytes = address.bytes
            if bytes.count == 4 { return bytes[0] == 127 }
            return bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1
        case .name: return false
        }
    }

    private static func checkAuthentication(_ fields: [String: JSONValue]) throws(ClientMetadataDocumentError) {
        if fields["client_secret"] != nil || fields["client_secret_expires_at"] != nil {
            throw .invalidDocument("it contains a client secret, which a published document must never carry")
        }
        let method: String
        switch fields["token_endpoint_auth_method"] {
        case nil, .null: method = "none"
        case .string(let value): method = value
        default: throw .invalidDocument("its token_endpoint_auth_method is not text")
        }
        if method == "none" { return }
        let shown = ClientMetadataDocumentError.shortened(method)
        if secretMethods.contains(method) {
            throw .invalidDocument(
                "it asks to sign in to Latchkey with a client secret (\(shown)), which a published document cannot carry; it must use \"none\""
            )
        }
        if case .array(let supported) = fields["token_endpoint_auth_methods_supported"], supported.contains(.string("none")) { return }
        throw .invalidDocument(
            "it asks to sign in to Latchkey with \(shown), which Latchkey does not accept for applications described this way; "
                + "it must use \"none\""
        )
    }

    private static func redirectURIs(_ value: JSONValue?) throws(ClientMetadataDocumentError) -> [String] {
        guard case .array(let items) = value else { throw .invalidDocument("it has no redirect_uris list") }
        guard !items.isEmpty else { throw .invalidDocument("its redirect_uris list is empty") }
        var uris: [String] = []
        for item in items {
            guard case .string(let uri) = item else { throw .invalidDocument("an entry of its redirect_uris is not text") }
            if let problem = redirectURIProblem(uri) {
                throw .invalidDocument("its redirect URI \"\(ClientMetadataDocumentError.shortened(uri))\" cannot be used: \(problem)")
            }
            uris.append(uri)
        }
        return uris
    }

    private static func displayURI(_ value: JSONValue?) -> String? {
        guard case .string(let uri) = value, OutboundPolicy.textProblem(uri) == nil, let components = URLComponents(string: uri),
            components.scheme?.lowercased() == "https", let host = components.host, !host.isEmpty, components.percentEncodedUser == nil
        else { return nil }
        return uri
    }
}
