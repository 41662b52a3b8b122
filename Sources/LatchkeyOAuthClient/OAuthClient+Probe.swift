import Foundation
public import LatchkeyProviders

/// The answer of a provider's health probe.
public enum ProbeResult: Sendable, Equatable {
    /// The provider answered as the catalog expects.
    case healthy
    /// The provider is up but refused the token (the credential, not the provider, is at fault).
    case unauthorized
    /// Anything else: an unexpected status, a timeout, no connection.
    case failing(reason: String)
}

extension OAuthClient {
    /// Calls the catalog's probe endpoint with an access token ("is the API reachable?"). Never throws: every
    /// outcome is a result, and the reason never carries the token.
    public func probe(provider: Provider, endpoints: OAuthEndpoints, accessToken: String) async -> ProbeResult {
        guard let probe = provider.probe, let url = endpoints.apiURL(probe.path) else { return .failing(reason: "no_probe") }
        let header = provider.oauth?.accessTokenHeader ?? "Authorization"
        let format = provider.oauth?.accessTokenFormat ?? "Bearer {accessToken}"
        var headers: [(name: String, value: String)] = [
            (name: header, value: format.replacingOccurrences(of: "{accessToken}", with: accessToken)),
            (name: "Accept", value: "application/json"),
        ]
        headers.append(contentsOf: (provider.requestHeaders ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
        var body: Data?
        if let text = probe.body {
            body = Data(text.utf8)
            headers.append((name: "Content-Type", value: "application/json"))
        }
        do {
            let response = try await transport.send(OutboundRequest(method: probe.method, url: url, headers: headers, body: body))
            if response.status == probe.expectStatus { return .healthy }
            if response.status == 401 || response.status == 403 { return .unauthorized }
            return .failing(reason: "status_\(response.status)")
        } catch let error as OutboundError {
            switch error {
            case .timedOut: return .failing(reason: "timeout")
            case .unreachable: return .failing(reason: "unreachable")
            case .responseTooLarge: return .healthy
            case .blockedAddress: return .failing(reason: "blocked_address")
            case .unsupportedURL: return .failing(reason: "unsupported_url")
            }
        } catch {
            return .failing(reason: "error")
        }
    }
}
