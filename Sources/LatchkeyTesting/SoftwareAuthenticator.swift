public import Crypto
public import Foundation
public import LatchkeyIdentity

/// Encodes CBOR for tests (canonical, definite lengths), so that they can build what authenticators send.
public enum CBOREncoder {
    public static func encode(_ item: CBOR) -> Data {
        var out = Data()
        write(item, to: &out)
        return out
    }

    static func head(_ major: UInt8, _ value: UInt64, to out: inout Data) {
        switch value {
        case 0..<24: out.append(major << 5 | UInt8(value))
        case 24..<256: out.append(contentsOf: [major << 5 | 24, UInt8(value)])
        case 256..<65536: out.append(contentsOf: [major << 5 | 25, UInt8(value >> 8), UInt8(value & 0xFF)])
        case 65536..<(1 << 32):
            out.append(major << 5 | 26)
            out.append(contentsOf: (0..<4).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) })
        default:
            out.append(major << 5 | 27)
            out.append(contentsOf: (0..<8).reversed().map { UInt8(value >> ($0 * 8) & 0xFF) })
        }
    }

    static func write(_ item: CBOR, to out: inout Data) {
        switch item {
        case .unsigned(let n): head(0, n, to: &out)
        case .negative(let n): head(1, n, to: &out)
        case .bytes(let data):
            head(2, UInt64(data.count), to: &out)
            out.append(data)
        case .text(let text):
            head(3, UInt64(text.utf8.count), to: &out)
            out.append(contentsOf: Array(text.utf8))
        case .array(let items):
            head(4, UInt64(items.count), to: &out)
            for item in items { write(item, to: &out) }
        case .map(let map):
            head(5, UInt64(map.count), to: &out)
            for (key, value) in map.sorted(by: { encode($0.key).lexicographicallyPrecedes(encode($1.key)) }) {
                write(key, to: &out)
                write(value, to: &out)
            }
        case .bool(let value): out.append(value ? 0xF5 : 0xF4)
        case .null: out.append(0xF6)
        }
    }

    public static func int(_ value: Int) -> CBOR { value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-1 - value)) }
}

/// A passkey authenticator in software: it registers a P-256 credential and signs assertions as a security key
/// would, with knobs to misbehave.
public struct SoftwareAuthenticator: Sendable {
    public let key = P256.Signing.PrivateKey()
    /// Random, as an authenticator's are, so that two authenticators never share one.
    public var credentialID = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
    public var rpID: String
    public var origin: String
    public var counter: UInt32 = 0
    public var flags: UInt8 = 0x05  // user present and verified

    public init(rpID: String = "latchkey.example", origin: String = "https://latchkey.example") {
        self.rpID = rpID
        self.origin = origin
    }

    public var coseKey: CBOR {
        let point = key.publicKey.x963Representation
        return .map([
            CBOREncoder.int(1): CBOREncoder.int(2), CBOREncoder.int(3): CBOREncoder.int(-7), CBOREncoder.int(-1): CBOREncoder.int(1),
            CBOREncoder.int(-2): .bytes(point[1..<33]), CBOREncoder.int(-3): .bytes(point[33..<65]),
        ])
    }

    public func clientData(type: String, challenge: Data, origin: String? = nil) -> Data {
        let challengeText = challenge.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return Data(#"{"type":"\#(type)","challenge":"\#(challengeText)","origin":"\#(origin ?? self.origin)","crossOrigin":false}"#.utf8)
    }

    public func authenticatorData(attested: Bool, flags extra: UInt8 = 0) -> Data {
        var data = Data(SHA256.hash(data: Data(rpID.utf8)))
        data.append(flags | extra | (attested ? 0x40 : 0))
        data.append(contentsOf: (0..<4).reversed().map { UInt8(counter >> ($0 * 8) & 0xFF) })
        if attested {
            data.append(Data(repeating: 0, count: 16))
            data.append(contentsOf: [UInt8(credentialID.count >> 8), UInt8(credentialID.count & 0xFF)])
            data.append(credentialID)
            data.append(CBOREncoder.encode(coseKey))
        }
        return data
    }

    /// What `navigator.credentials.create()` resolves with.
    public func register(challenge: Data) -> (clientDataJSON: Data, attestationObject: Data) {
        let attestation = CBOR.map([
            .text("fmt"): .text("none"), .text("attStmt"): .map([:]), .text("authData"): .bytes(authenticatorData(attested: true)),
        ])
        return (clientData(type: "webauthn.create", challenge: challenge), CBOREncoder.encode(attestation))
    }

    /// What `navigator.credentials.get()` resolves with; the counter moves first, as an authenticator's does.
    public mutating func assert(challenge: Data, origin: String? = nil) throws -> (clientDataJSON: Data, authenticatorData: Data, signature: Data) {
        counter += 1
        let clientDataJSON = clientData(type: "webauthn.get", challenge: challenge, origin: origin)
        let data = authenticatorData(attested: false)
        let signature = try key.signature(for: data + Data(SHA256.hash(data: clientDataJSON)))
        return (clientDataJSON, data, signature.derRepresentation)
    }
}
