public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient

/// AWS KMS settings (`LATCHKEY_KMS_KEY_ID` and the usual AWS variables). The secret access key and session token are
/// secret: never printed.
public struct KMSSettings: Sendable {
    /// The KMS key id, ARN or alias (`LATCHKEY_KMS_KEY_ID`).
    public var keyID: String
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    public var region: String
    public var credentials: AWSCredentials
    /// `LATCHKEY_KMS_ENDPOINT`, else `AWS_ENDPOINT_URL_KMS`, else `https://kms.<region>.amazonaws.com/`.
    public var endpoint: URL

    /// The settings from the environment; nil without `LATCHKEY_KMS_KEY_ID`. Names what is missing.
    public static func fromEnvironment(_ environment: [String: String]) throws -> KMSSettings? {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let keyID = value("LATCHKEY_KMS_KEY_ID") else { return nil }
        guard let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") else {
            throw ConfigurationError("LATCHKEY_KMS_KEY_ID is set but no region is: set AWS_REGION (for example eu-west-1)")
        }
        guard let accessKeyID = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
            throw ConfigurationError("LATCHKEY_KMS_KEY_ID is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not: set both")
        }
        let endpointText = value("LATCHKEY_KMS_ENDPOINT") ?? value("AWS_ENDPOINT_URL_KMS") ?? "https://kms.\(region).amazonaws.com/"
        guard let endpoint = URL(string: endpointText), let scheme = endpoint.scheme?.lowercased(), ["http", "https"].contains(scheme),
            endpoint.host != nil, endpoint.user == nil, endpoint.query == nil
        else {
            throw ConfigurationError("The KMS endpoint must be an http(s) URL such as https://kms.eu-west-1.amazonaws.com/, got \(endpointText)")
        }
        return KMSSettings(
            keyID: keyID,
            region: region,
            credentials: AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN")),
            endpoint: endpoint
        )
    }
}

/// The master key as an AWS KMS data key: on first start `GenerateDataKey` (AES_256) makes it and only its ciphertext
/// blob is stored (in the database, next to the keyring); every start asks KMS to `Decrypt` the blob.
public struct KMSKeyProvider: WrappedMasterKeyProvider {
    public let keyID: String
    let client: KMSClient

    /// `transport` sends the KMS calls; nil makes a short-lived AsyncHTTPClient transport per call (KMS is called at
    /// start and by `keys rotate-master` only). The endpoint is the operator's own setting, so it may be on a private
    /// network.
    public init(settings: KMSSettings, transport: (any HTTPTransport)? = nil, clock: any LatchkeyClock = SystemClock()) {
        self.keyID = settings.keyID
        self.client = KMSClient(
            endpoint: settings.endpoint,
            credentials: settings.credentials,
            region: settings.region,
            transport: transport ?? OneShotTransport(),
            clock: clock
        )
    }

    public var sourceDescription: String { "AWS KMS key \(keyID) at \(KMSError.shown(client.endpoint))" }

    public func generateWrappedMasterKey() async throws -> (key: MasterKey, wrapped: Data) {
        let (plaintext, blob) = try await client.generateDataKey(keyID: keyID)
        return (try MasterKey(bytes: plaintext, source: sourceDescription), blob)
    }

    public func unwrapMasterKey(_ wrapped: Data) async throws -> MasterKey {
        try MasterKey(bytes: try await client.decrypt(wrapped, keyID: keyID), source: sourceDescription)
    }
}

/// An AsyncHTTPClient transport made for one request and shut down after it.
struct OneShotTransport: HTTPTransport {
    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        let transport = AsyncHTTPClientTransport(policy: OutboundPolicy(allowPrivateNetwork: true))
        do {
            let response = try await transport.send(request)
            try? await transport.shutdown()
            return response
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }

    func stream(_ request: OutboundRequest, body: OutboundByteStream?) async throws -> OutboundStreamedResponse {
        throw OutboundError.unsupportedURL(reason: "streaming is not used for KMS")
    }
}
