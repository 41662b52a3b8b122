import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStorage

extension AppIdentities {
    /// Whom a tool call or proxy request that names an account (`identity`) acts for.
    enum CallAs: Sendable {
        /// The linked person: credentials resolve as the console app's end user whose id is the person's (their own
        /// connections in the Connection Center, else the console's shared one).
        case person(userID: String)
        /// Nobody linked the account yet: answer `link_required` with this fresh code.
        case linkRequired(LinkRequired)
    }

    /// An admin key naming an identity: only an app vouches for its users' accounts (403, before the identity is read).
    static let adminKeyRefused = LatchkeyError.forbidden(
        "An identity is vouched for by an app: call with the app's key (lk_app_…). With an admin key, name the console user as the end user instead."
    )

    /// The person behind `claim` for a gateway call. Only an app vouches for accounts: an admin key naming an
    /// identity is refused, as is naming both an identity and an end user.
    func callAs(
        _ claim: AppIdentityClaim,
        externalUserID: String?,
        fieldName: String,
        context: CallerContext,
        request: Request
    ) async throws
        -> CallAs
    {
        if externalUserID != nil {
            throw LatchkeyError.invalidRequest(
                "Name the user either by an identity or by an end user id, not both.",
                fields: [.init(path: fieldName, message: "cannot be sent together with the end user id")]
            )
        }
        guard let app = context.app else { throw Self.adminKeyRefused }
        switch try await resolve(claim, app: app, actor: context.actor(for: request)) {
        case .linked(_, let user): return .person(userID: user.id)
        case .linkRequired(let required): return .linkRequired(required)
        }
    }
}
