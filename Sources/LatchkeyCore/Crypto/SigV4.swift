import Crypto
public import Foundation

/// AWS credentials. The secret access key and the session token are secret: ``description`` shows the access key
/// id only.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessKeyID: String
    let secretAccessKey: String
    let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var description: String { "AWS credentials \(accessKeyID) (secret not shown)" }
    public var debugDescription: String { description }
}

/// Signs AWS requests with Signature Version 4 (the `Authorization: AWS4-HMAC-SHA256 …` header), as
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html describes.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to a request: `X-Amz-Date`, `X-Amz-Security-Token` (with a session token), `X-Amz-Content-Sha256`
    /// when asked, and `Authorization`. `headers` are the request's own headers; every one of them is signed, with
    /// `Host` (taken from `url` when absent).
    public func signatureHeaders(
        method: String,
        url: URL,
        headers: [(name: String, value: String)],
        body: Data,
        date: Date
    ) -> [(name: String, value: String)] {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        var all = headers + added
        if !all.contains(where: { $0.name.lowercased() == "host" }) { all.append(("Host", Self.hostHeader(url))) }
        let canonical = canonicalRequest(method: method, url: url, headers: all, body: body)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonical.request.utf8)))].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
        added.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
            )
        )
        return added
    }

    /// The canonical request and the list of signed header names.
    func canonicalRequest(method: String, url: URL, headers: [(name: String, value: String)], body: Data) -> (request: String, signedHeaders: String)
    {
        var grouped: [String: [String]] = [:]
        for header in headers {
            let value = header.value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(
                separator: " "
            )
            grouped[header.name.lowercased(), default: []].append(value)
        }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let request = [
            method.uppercased(),
            Self.canonicalPath(url),
            Self.canonicalQuery(url),
            canonicalHeaders,
            signedHeaders,
            Self.hex(SHA256.hash(data: body)),
        ].joined(separator: "\n")
        return (request, signedHeaders)
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// The `Host` header a request to `url` carries (the port only when it is not the scheme's default).
    public static func hostHeader(_ url: URL) -> String {
        let host = url.host ?? ""
        guard let port = url.port else { return host }
        let scheme = url.scheme?.lowercased()
        if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { return host }
        return "\(host):\(port)"
    }

    static func canonicalPath(_ url: URL) -> String {
        let path = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        guard !path.isEmpty else { return "/" }
        // Each segment decoded, then encoded once with the unreserved characters only.
        return path.split(separator: "/", omittingEmptySubsequences: false).map {
            encode(String($0).removingPercentEncoding ?? String($0))
        }.joined(separator: "/")
    }

    static func canonicalQuery(_ url: URL) -> String {
        guard let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems else { return "" }
        var pairs: [(name: String, value: String)] = []
        for item in items {
            pairs.append((encode(item.name), encode(item.value ?? "")))
        }
        pairs.sort { left, right in left.name == right.name ? left.value < right.value : left.name < right.name }
        var parts: [String] = []
        for pair in pairs {
            parts.append(pair.name + "=" + pair.value)
        }
        return parts.joined(separator: "&")
    }

    /// The bytes left as they are: `A-Z a-z 0-9 - . _ ~`.
    static let unreserved: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    /// RFC 3986 encoding: everything but the unreserved characters, as `%XX`.
    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                result.append(Character(Unicode.Scalar(byte)))
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    /// `20150830T123600Z`.
    static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
