import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient

/// AWS KMS behind an ``HTTPTransport``: answers `TrentService.GenerateDataKey` and `TrentService.Decrypt` (JSON 1.1)
/// for the keys it knows, after checking each request's SigV4 signature against the credentials it was given. It can
/// be made unreachable, and records every request.
public actor FakeKMS: HTTPTransport {
    public let credentials: AWSCredentials
    public let region: String
    private var keyIDs: Set<String>
    /// Ciphertext blob (base64) → (key id, plaintext).
    private var issued: [String: (keyID: String, plaintext: Data)] = [:]
    /// While true every request fails as a host that does not answer.
    public var unreachable = false
    /// Every request received, in order.
    public private(set) var requests: [OutboundRequest] = []
    /// Requests whose signature did not verify.
    public private(set) var badSignatures = 0

    public init(keyIDs: Set<String>, credentials: AWSCredentials, region: String) {
        self.keyIDs = keyIDs
        self.credentials = credentials
        self.region = region
    }

    public func setUnreachable(_ value: Bool) { unreachable = value }

    /// The `X-Amz-Target` operations received, in order.
    public var operations: [String] { requests.compactMap { $0.header("X-Amz-Target") } }
    /// The `Authorization` header of every request, in order.
    public var authorizations: [String] { requests.compactMap { $0.header("Authorization") } }
    /// The `X-Amz-Security-Token` header of every request, in order (nil where there was none).
    public var securityTokens: [String?] { requests.map { $0.header("X-Amz-Security-Token") } }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        requests.append(request)
        if unreachable { throw OutboundError.unreachable(host: request.url.host ?? "") }
        guard verify(request) else {
            badSignatures += 1
            return Self.error(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
        }
        let body = request.body ?? Data()
        let fields = (try? JSONSerialization.jsonObject(with: body)) as? [String: String] ?? [:]
        guard let keyID = fields["KeyId"], keyIDs.contains(keyID) else {
            return Self.error(400, "NotFoundException", "Key '\(fields["KeyId"] ?? "")' does not exist")
        }
        switch request.header("X-Amz-Target") {
        case "TrentService.GenerateDataKey":
            guard fields["KeySpec"] == "AES_256" else { return Self.error(400, "ValidationException", "KeySpec must be AES_256") }
            let plaintext = Data(SecureRandom.bytes(32))
            let blob = Data(SecureRandom.bytes(64))
            issued[blob.base64EncodedString()] = (keyID, plaintext)
            return Self.answer(["KeyId": keyID, "Plaintext": plaintext.base64EncodedString(), "CiphertextBlob": blob.base64EncodedString()])
        case "TrentService.Decrypt":
            guard let blob = fields["CiphertextBlob"], let entry = issued[blob], entry.keyID == keyID else {
                return Self.error(400, "InvalidCiphertextException", "")
            }
            return Self.answer(["KeyId": keyID, "Plaintext": entry.plaintext.base64EncodedString()])
        default:
            return Self.error(400, "UnknownOperationException", "")
        }
    }

    public func stream(_ request: OutboundRequest, body: OutboundByteStream?) async throws -> OutboundStreamedResponse {
        throw OutboundError.unsupportedURL(reason: "the fake KMS does not stream")
    }

    /// Signs the request again, at the time its `X-Amz-Date` names, and compares the `Authorization` headers.
    private func verify(_ request: OutboundRequest) -> Bool {
        guard let amzDate = request.header("X-Amz-Date"), let date = Self.parse(amzDate), let given = request.header("Authorization") else {
            return false
        }
        let generated = ["x-amz-date", "authorization", "x-amz-security-token"]
        let own = request.headers.filter { !generated.contains($0.name.lowercased()) }
        let signer = SigV4Signer(credentials: credentials, region: region, service: "kms")
        let expected = signer.signatureHeaders(method: request.method, url: request.url, headers: own, body: request.body ?? Data(), date: date)
        return expected.first { $0.name == "Authorization" }?.value == given
            && expected.first { $0.name == "X-Amz-Security-Token" }?.value == request.header("X-Amz-Security-Token")
    }

    private static func parse(_ amzDate: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: amzDate)
    }

    private static func answer(_ fields: [String: String]) -> OutboundResponse {
        OutboundResponse(status: 200, body: (try? JSONSerialization.data(withJSONObject: fields)) ?? Data())
    }

    private static func error(_ status: Int, _ type: String, _ message: String) -> OutboundResponse {
        answer(["__type": type, "message": message]).withStatus(status)
    }
}

extension OutboundResponse {
    fileprivate func withStatus(_ status: Int) -> OutboundResponse {
        var copy = self
        copy.status = status
        return copy
    }
}
