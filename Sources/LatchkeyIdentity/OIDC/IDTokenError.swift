/// Why an id_token was refused. The cases name the check that failed and never carry the token or a key.
public enum IDTokenError: Error, Sendable, Equatable {
    /// Not a compact JWS with a JSON header and payload.
    case malformed
    /// The header's `alg` is one Latchkey does not accept from a provider that publishes its keys (`none`, `HS256`, …).
    case algorithmNotAllowed(String)
    /// No key of the provider's key set matches the token's `kid` (also after fetching the set again).
    case unknownKey
    /// The signature does not match the provider's key.
    case badSignature
    /// A claim does not hold what was expected: `iss`, `aud`, `azp`, `nonce`, `sub`.
    case claimMismatch(String)
    /// `exp` is past (beyond the leeway), or missing.
    case expired
    /// `iat` is in the future (beyond the leeway), or missing.
    case issuedInFuture
    /// The provider's key set could not be read; `reason` is plain words without a URL's query.
    case keySetUnavailable(String)
}

extension IDTokenError {
    /// What happened, in plain words for a page or a log line.
    public var message: String {
        switch self {
        case .malformed: return "the provider's id_token is not a signed JWT"
        case .algorithmNotAllowed(let alg): return "the provider's id_token is signed with \(alg), which is not accepted"
        case .unknownKey: return "the provider's id_token is signed with a key the provider does not publish"
        case .badSignature: return "the provider's id_token has a signature that does not match the provider's key"
        case .claimMismatch(let claim): return "the provider's id_token has an unexpected \(claim)"
        case .expired: return "the provider's id_token has expired"
        case .issuedInFuture: return "the provider's id_token is issued in the future"
        case .keySetUnavailable(let reason): return "the provider's signing keys could not be read: \(reason)"
        }
    }
}
