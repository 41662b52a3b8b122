import Crypto
public import Foundation

/// The relying party's checks of passkey ceremonies (WebAuthn Level 3 §7): a registration creates a credential, an
/// assertion proves the person holds it. The browser talks to the authenticator; this only verifies what comes
/// back, against the challenge the server issued, its own origin and RP ID.
public struct WebAuthnRelyingParty: Sendable {
    /// The RP ID: the host name of the public URL (`latchkey.example.com`).
    public let id: String
    /// The only origin accepted (`https://latchkey.example.com`, or `http://localhost:8080` in development).
    public let origin: String

    public init(id: String, origin: String) {
        self.id = id
        self.origin = origin
    }

    /// The RP of a public URL: its host as RP ID, its scheme, host and port as the origin.
    public init?(publicURL: URL) {
        guard let components = URLComponents(url: publicURL, resolvingAgainstBaseURL: false), let scheme = components.scheme,
            let host = components.host, !host.isEmpty
        else { return nil }
        self.id = host
        self.origin = "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    /// A new passkey.
    public struct Registration: Sendable, Equatable {
        public var credentialID: Data
        public var publicKey: COSEKey
        public var signCount: UInt32
        public var userVerified: Bool
        public var backupEligible: Bool
        public var attestationFormat: String
    }

    /// A successful sign-in with a passkey.
    public struct Assertion: Sendable, Equatable {
        /// The counter to store (0 for authenticators that keep none).
        public var signCount: UInt32
        public var userVerified: Bool
    }

    /// Verifies the answer of `navigator.credentials.create()`. The attestation statement is not checked: the
    /// server asks for none (`attestation: "none"`) and trusts no authenticator model over another.
    public func verifyRegistration(
        clientDataJSON: Data,
        attestationObject: Data,
        expectedChallenge: Data,
        requireUserVerification: Bool
    ) throws -> Registration {
        try checkClientData(clientDataJSON, type: "webauthn.create", challenge: expectedChallenge)
        let attestation: CBOR
        do { attestation = try CBORReader.decode(attestationObject) } catch {
            throw WebAuthnError("The attestation object is not valid CBOR (\(error)).")
        }
        guard let format = attestation["fmt"]?.text, let rawData = attestation["authData"]?.bytes else {
            throw WebAuthnError("The attestation object lacks its format or authenticator data.")
        }
        let data = try AuthenticatorData(rawData)
        try checkAuthenticatorData(data, requireUserVerification: requireUserVerification)
        guard let credential = data.attestedCredential else { throw WebAuthnError("The authenticator sent no new credential.") }
        return Registration(
            credentialID: credential.credentialID,
            publicKey: credential.publicKey,
            signCount: data.signCount,
            userVerified: data.flags.contains(.userVerified),
            backupEligible: data.flags.contains(.backupEligible),
            attestationFormat: format
        )
    }

    /// Verifies the answer of `navigator.credentials.get()` for a stored passkey: challenge, origin, RP ID, the
    /// signature, and a counter that moved forward (a counter that did not suggests a cloned authenticator).
    public func verifyAssertion(
        clientDataJSON: Data,
        authenticatorData: Data,
        signature: Data,
        expectedChallenge: Data,
        publicKey: COSEKey,
        storedSignCount: UInt32,
        requireUserVerification: Bool
    ) throws -> Assertion {
        try checkClientData(clientDataJSON, type: "webauthn.get", challenge: expectedChallenge)
        let data = try AuthenticatorData(authenticatorData)
        try checkAuthenticatorData(data, requireUserVerification: requireUserVerification)
        let message = authenticatorData + Data(SHA256.hash(data: clientDataJSON))
        guard publicKey.verify(signature: signature, message: message) else {
            throw WebAuthnError("The passkey's signature does not match.")
        }
        if data.signCount != 0 || storedSignCount != 0, data.signCount <= storedSignCount {
            var error = WebAuthnError("The passkey's counter went backwards: the authenticator may have been copied.")
            error.possibleClone = true
            throw error
        }
        return Assertion(signCount: data.signCount, userVerified: data.flags.contains(.userVerified))
    }

    /// The challenge a response answers, read from its client data before anything is verified: the server finds
    /// by it which ceremony it issued (any instance can finish one). Nil when the client data is not a browser's.
    public static func challenge(inClientData json: Data) -> Data? {
        guard json.count <= 16 * 1024, let clientData = try? JSONDecoder().decode(ClientData.self, from: json) else { return nil }
        return Data(base64URL: clientData.challenge)
    }

    private struct ClientData: Decodable {
        var type: String
        var challenge: String
        var origin: String
        var crossOrigin: Bool?
    }

    private func checkClientData(_ json: Data, type: String, challenge: Data) throws {
        guard let clientData = try? JSONDecoder().decode(ClientData.self, from: json) else {
            throw WebAuthnError("The client data is not the JSON a browser sends.")
        }
        guard clientData.type == type else { throw WebAuthnError("The client data is for another ceremony (\(clientData.type)).") }
        guard let sent = Data(base64URL: clientData.challenge), !challenge.isEmpty, sent == challenge else {
            throw WebAuthnError("The challenge is not the one this server issued; start again.")
        }
        guard clientData.origin == origin else { throw WebAuthnError("The passkey was used on another site (\(clientData.origin)).") }
        guard clientData.crossOrigin != true else { throw WebAuthnError("The passkey was used from inside another site's frame.") }
    }

    private func checkAuthenticatorData(_ data: AuthenticatorData, requireUserVerification: Bool) throws {
        guard data.rpIDHash == Data(SHA256.hash(data: Data(id.utf8))) else {
            throw WebAuthnError("The passkey belongs to another site.")
        }
        guard data.flags.contains(.userPresent) else { throw WebAuthnError("The authenticator did not check that someone was present.") }
        if requireUserVerification, !data.flags.contains(.userVerified) {
            throw WebAuthnError("The authenticator did not verify the person (a PIN or a fingerprint is needed).")
        }
    }
}

extension Data {
    /// Decodes URL-safe base64, with or without padding; nil when it is not.
    public init?(base64URL text: String) {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("=") || text.hasSuffix("=") else { return nil }
        while standard.count % 4 != 0 { standard += "=" }
        self.init(base64Encoded: standard)
    }
}
