public import Foundation
public import LatchkeyCore
public import LatchkeyOAuthClient

/// The two AWS KMS calls Latchkey makes, `GenerateDataKey` and `Decrypt`, over the JSON 1.1 protocol
/// (`X-Amz-Target: TrentService.…`), signed with SigV4.
public struct KMSClient: Sendable {
    public let endpoint: URL
    let signer: SigV4Signer
    let transport: any HTTPTransport
    let clock: any LatchkeyClock

    public init(endpoint: URL, credentials: AWSCredentials, region: String, transport: any HTTPTransport, clock: any LatchkeyClock = SystemClock()) {
        self.endpoint = endpoint
        self.signer = SigV4Signer(credentials: credentials, region: region, service: "kms")
        self.transport = transport
        self.clock = clock
    }

    /// `GenerateDataKey` with `KeySpec: AES_256`: a new 32-byte key and its ciphertext blob.
    public func generateDataKey(keyID: String) async throws -> (plaintext: Data, ciphertextBlob: Data) {
        let answer = try await call("GenerateDataKey", ["KeyId": keyID, "KeySpec": "AES_256"])
        guard let plaintext = answer.data("Plaintext"), let blob = answer.data("CiphertextBlob") else {
            throw KMSError.badResponse(endpoint: endpoint, operation: "GenerateDataKey")
        }
        return (plaintext, blob)
    }

    /// `Decrypt`: the plaintext of a ciphertext blob made by `GenerateDataKey` under `keyID`.
    public func decrypt(_ ciphertextBlob: Data, keyID: String) async throws -> Data {
        let answer = try await call("Decrypt", ["KeyId": keyID, "CiphertextBlob": ciphertextBlob.base64EncodedString()])
        guard let plaintext = answer.data("Plaintext") else { throw KMSError.badResponse(endpoint: endpoint, operation: "Decrypt") }
        return plaintext
    }

    struct Answer {
        let fields: [String: Any]
        func data(_ name: String) -> Data? { (fields[name] as? String).flatMap { Data(base64Encoded: $0) } }
    }

    func call(_ operation: String, _ parameters: [String: String]) async throws -> Answer {
        let body = try JSONSerialization.data(withJSONObject: parameters, options: [.sortedKeys])
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "TrentService.\(operation)"),
            ("Host", SigV4Signer.hostHeader(endpoint)),
        ]
        headers += signer.signatureHeaders(method: "POST", url: endpoint, headers: headers, body: body, date: clock.now)
        let response: OutboundResponse
        do {
            response = try await transport.send(OutboundRequest(method: "POST", url: endpoint, headers: headers, body: body))
        } catch let error as OutboundError {
            throw KMSError.unreachable(endpoint: endpoint, operation: operation, reason: Self.reason(error))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KMSError.unreachable(endpoint: endpoint, operation: operation, reason: "the request failed")
        }
        let fields = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        guard (200..<300).contains(response.status) else {
            // "__type" is "…#NotFoundException" or "NotFoundException"; keep the name only.
            let type = (fields["__type"] as? String)?.split(separator: "#").last.map(String.init)
            let message = (fields["message"] as? String) ?? (fields["Message"] as? String)
            throw KMSError.refused(endpoint: endpoint, operation: operation, status: response.status, type: type, message: message)
        }
        return Answer(fields: fields)
    }

    static func reason(_ error: OutboundError) -> String {
        switch error {
        case .unreachable: return "the host did not answer or could not be resolved"
        case .timedOut: return "no answer within the time limit"
        case .responseTooLarge: return "the answer was too large"
        case .blockedAddress(_, let reason): return reason
        case .unsupportedURL(let reason): return reason
        }
    }
}

/// A failed KMS call: which endpoint, which operation, and what to check. Never a key, a credential or a signature.
public struct KMSError: Error, Sendable, CustomStringConvertible {
    public let description: String

    static func unreachable(endpoint: URL, operation: String, reason: String) -> Self {
        .init(
            description:
                "AWS KMS at \(Self.shown(endpoint)) could not be reached for \(operation) (\(reason)). Check the network path to it, "
                + "the region (AWS_REGION) and any endpoint override (LATCHKEY_KMS_ENDPOINT or AWS_ENDPOINT_URL_KMS); nothing was changed."
        )
    }

    static func refused(endpoint: URL, operation: String, status: Int, type: String?, message: String?) -> Self {
        let what = [type, message].compactMap { $0 }.joined(separator: ": ")
        return .init(
            description:
                "AWS KMS at \(Self.shown(endpoint)) refused \(operation) (HTTP \(status)\(what.isEmpty ? "" : ", \(what)")). Check LATCHKEY_KMS_KEY_ID, "
                + "that the key is enabled, and that the credentials (AWS_ACCESS_KEY_ID and its secret, AWS_SESSION_TOKEN) may use it."
        )
    }

    static func badResponse(endpoint: URL, operation: String) -> Self {
        .init(description: "AWS KMS at \(Self.shown(endpoint)) answered \(operation) without the expected fields; is the endpoint a KMS endpoint?")
    }

    /// Scheme, host and port only.
    static func shown(_ url: URL) -> String {
        guard let scheme = url.scheme, let host = url.host else { return "the configured endpoint" }
        return "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")"
    }
}
