import Foundation
import LatchkeyCore
import LatchkeyIdentity
import LatchkeyStorage

/// Passkeys on this server: the options a browser passes to `navigator.credentials.create()` / `.get()`, and the
/// checks of what comes back. The relying party is the public URL: its host is the RP ID, its origin the only one
/// accepted. Challenges are stored, so any instance finishes a ceremony another began, and each answers once.
struct PasskeyCeremonies: Sendable {
    let relyingParty: WebAuthnRelyingParty
    let passkeys: PasskeyRepository
    let challenges: WebAuthnChallengeRepository
    let clock: any LatchkeyClock
    /// How long the browser waits for the person (milliseconds).
    static let timeout = 300_000

    struct Descriptor: Encodable {
        var type = "public-key"
        var id: String
    }

    /// `PublicKeyCredentialCreationOptions`, binary values in URL-safe base64 (the script decodes them).
    struct CreationOptions: Encodable {
        struct RelyingParty: Encodable {
            var id: String
            var name: String
        }
        struct UserEntity: Encodable {
            var id: String
            var name: String
            var displayName: String
        }
        struct Parameter: Encodable {
            var type = "public-key"
            var alg = COSEKey.es256
        }
        struct Selection: Encodable {
            var residentKey = "required"
            var requireResidentKey = true
            var userVerification = "preferred"
        }
        var rp: RelyingParty
        var user: UserEntity
        var challenge: String
        var pubKeyCredParams = [Parameter()]
        var timeout = PasskeyCeremonies.timeout
        var attestation = "none"
        var authenticatorSelection = Selection()
        var excludeCredentials: [Descriptor]
    }

    /// `PublicKeyCredentialRequestOptions` for a discoverable credential: no list, the authenticator offers its own.
    struct RequestOptions: Encodable {
        var challenge: String
        var rpId: String
        var timeout = PasskeyCeremonies.timeout
        var userVerification = "preferred"
        var allowCredentials: [Descriptor] = []
    }

    /// Why a ceremony was refused: words for the person, a short reason for the audit log.
    struct Failure: Error {
        var message: String
        var reason: String
        var userID: String?
    }

    /// A passkey that just signed in.
    struct SignedIn {
        var passkey: Passkey
        var userVerified: Bool
    }

    /// The options to add a passkey for `user`, its existing ones excluded (an authenticator holds one per person).
    func creationOptions(for user: User) async throws -> CreationOptions {
        let existing = try await passkeys.passkeys(userID: user.id, tenantID: user.tenantID)
        let handle = existing.first?.userHandle ?? SecureRandom.token(byteCount: 32)
        let challenge = try await challenges.issue(.registration, tenantID: user.tenantID, userID: user.id, userHandle: handle)
        return CreationOptions(
            rp: .init(id: relyingParty.id, name: "Latchkey"),
            user: .init(id: handle, name: user.email, displayName: user.displayName.isEmpty ? user.email : user.displayName),
            challenge: challenge.base64URLEncodedString(),
            excludeCredentials: existing.map { Descriptor(id: $0.credentialID) }
        )
    }

    /// Checks the answer of `navigator.credentials.create()` (form fields `clientDataJSON`, `attestationObject`, URL-safe
    /// base64) against a challenge issued to `user`, and stores the passkey with its identity as `name`.
    func register(_ form: WebForm, user: User, name: String) async throws -> Passkey {
        guard let clientData = Self.binary(form, "clientDataJSON"), let attestation = Self.binary(form, "attestationObject") else {
            throw Failure(message: "The browser sent no passkey. Try again.", reason: "malformed")
        }
        guard let challenge = WebAuthnRelyingParty.challenge(inClientData: clientData),
            let issued = try await challenges.consume(challenge, ceremony: .registration), issued.userID == user.id,
            issued.tenantID == user.tenantID, let handle = issued.userHandle
        else {
            throw Failure(message: "This request to add a passkey has expired or was already used. Start again.", reason: "challenge")
        }
        let registration: WebAuthnRelyingParty.Registration
        do {
            registration = try relyingParty.verifyRegistration(
                clientDataJSON: clientData,
                attestationObject: attestation,
                expectedChallenge: challenge,
                requireUserVerification: false
            )
        } catch let error as WebAuthnError {
            throw Failure(message: error.description, reason: "invalid_registration")
        }
        let now = clock.now
        let credentialID = registration.credentialID.base64URLEncodedString()
        let identity = Identity(
            id: NewID.make(),
            tenantID: user.tenantID,
            userID: user.id,
            method: .passkey,
            provider: "passkey",
            subject: credentialID,
            displayName: name,
            createdAt: now
        )
        let passkey = Passkey(
            credentialID: credentialID,
            tenantID: user.tenantID,
            userID: user.id,
            identityID: identity.id,
            userHandle: handle,
            publicKey: registration.publicKey.stored,
            signCount: registration.signCount,
            name: name,
            createdAt: now
        )
        do {
            try await passkeys.insert(passkey, identity: identity)
        } catch let error as LatchkeyError where error.code == .conflict {
            throw Failure(message: error.message, reason: "taken")
        }
        return passkey
    }

    /// The options to sign in on the page of `tenant`.
    func requestOptions(tenant: Tenant) async throws -> RequestOptions {
        let challenge = try await challenges.issue(.authentication, tenantID: tenant.id, userID: nil)
        return RequestOptions(challenge: challenge.base64URLEncodedString(), rpId: relyingParty.id)
    }

    /// Checks the answer of `navigator.credentials.get()` (form fields `credentialId`, `clientDataJSON`,
    /// `authenticatorData`, `signature`, optional `userHandle`) for a passkey of `tenant`, and records its use.
    func authenticate(_ form: WebForm, tenant: Tenant) async throws -> SignedIn {
        guard let credentialID = form["credentialId"], !credentialID.isEmpty, credentialID.utf8.count <= 1400,
            let clientData = Self.binary(form, "clientDataJSON"), let data = Self.binary(form, "authenticatorData"),
            let signature = Self.binary(form, "signature")
        else {
            throw Failure(message: "The browser sent no passkey. Try again.", reason: "malformed")
        }
        guard let challenge = WebAuthnRelyingParty.challenge(inClientData: clientData),
            let issued = try await challenges.consume(challenge, ceremony: .authentication), issued.tenantID == tenant.id
        else {
            throw Failure(message: "This sign-in has expired or was already used. Try again.", reason: "challenge")
        }
        let unknown = Failure(
            message: "This passkey is not registered here. Sign in another way, then add it under Settings → Passkeys.",
            reason: "unknown_passkey"
        )
        guard let passkey = try await passkeys.passkey(credentialID: credentialID, tenantID: tenant.id) else { throw unknown }
        if let handle = form["userHandle"], !handle.isEmpty, handle != passkey.userHandle { throw unknown }
        let assertion: WebAuthnRelyingParty.Assertion
        do {
            assertion = try relyingParty.verifyAssertion(
                clientDataJSON: clientData,
                authenticatorData: data,
                signature: signature,
                expectedChallenge: challenge,
                publicKey: try COSEKey(stored: passkey.publicKey),
                storedSignCount: passkey.signCount,
                requireUserVerification: false
            )
        } catch let error as WebAuthnError {
            if error.possibleClone {
                throw Failure(
                    message:
                        "This passkey was refused: its counter did not move forward, so it may have been copied. Sign in another way and remove it.",
                    reason: "possible_cloned_authenticator",
                    userID: passkey.userID
                )
            }
            throw Failure(message: error.description, reason: "invalid_assertion", userID: passkey.userID)
        }
        guard
            try await passkeys.recordUse(
                credentialID: credentialID,
                tenantID: tenant.id,
                expected: passkey.signCount,
                signCount: assertion.signCount,
                at: clock.now
            )
        else {
            throw Failure(
                message: "This passkey was used twice at once and was refused. Try again.",
                reason: "possible_cloned_authenticator",
                userID: passkey.userID
            )
        }
        return SignedIn(passkey: passkey, userVerified: assertion.userVerified)
    }

    /// A form field in URL-safe base64, decoded; nil when missing or not base64.
    static func binary(_ form: WebForm, _ name: String) -> Data? {
        guard let text = form[name], !text.isEmpty else { return nil }
        return Data(base64URL: text)
    }
}
