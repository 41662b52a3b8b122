import Foundation
import LatchkeyCore

extension CredentialResolver {
    /// `error` (a credential that must be connected again: `needs_reauth`, `provider_revoked`, or one that cannot be
    /// read) with its next step as an absolute URL on the server's public URL (DESIGN §6), as `not_connected` gives
    /// it: the Connection Center for the console app and for a shared credential, a reconnect session of the end
    /// user's connection for an app (which hands its user a page to connect on). Other errors are returned as they are.
    func reconnectable(_ error: LatchkeyError, credential: Credential, caller: Caller) -> LatchkeyError {
        guard error.code == .needsReauth || error.code == .providerRevoked else { return error }
        guard caller.appID != nil, let external = credential.externalUserID else {
            let url = publicURL + "/connections"
            let who = caller.appID == nil ? "Reconnect" : "An administrator has to reconnect the shared credential"
            return LatchkeyError(error.code, "\(error.message) \(who) in the Connection Center: \(url)", action: .init(type: "reconnect", url: url))
        }
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/")
        let user = external.addingPercentEncoding(withAllowedCharacters: allowed) ?? external
        let url = publicURL + "/api/v1/connect/users/\(user)/connections/\(credential.connectionID)/reconnect"
        return LatchkeyError(
            error.code,
            "\(error.message) Start a reconnect session (POST \(url)) and send the user to its connectUrl; then ask for the token again.",
            action: .init(type: "reconnect", url: url)
        )
    }
}
