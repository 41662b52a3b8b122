import Foundation
import Hummingbird
import LatchkeyAuthServer

/// The discovery documents: RFC 8414 authorization server metadata (also at `openid-configuration`) and the RFC 9728
/// protected resource metadata of `/mcp`. Exact paths, no slash redirects.
struct OAuthMetadataController {
    let server: AuthorizationServer

    func addRoutes(to router: Router<AppRequestContext>) {
        let metadata = server.metadata
        let resource = server.resourceMetadata
        router.get(".well-known/oauth-authorization-server") { _, _ in try OAuthResponse.json(metadata, cacheable: true) }
        router.get(".well-known/openid-configuration") { _, _ in try OAuthResponse.json(metadata, cacheable: true) }
        router.get(".well-known/oauth-protected-resource") { _, _ in try OAuthResponse.json(resource, cacheable: true) }
        router.get(".well-known/oauth-protected-resource/mcp") { _, _ in try OAuthResponse.json(resource, cacheable: true) }
    }
}
