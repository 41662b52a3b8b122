import Crypto
import Foundation
import Testing

@testable import LatchkeyCore

/// SigV4 against AWS's published test suite (`get-vanilla`, `get-vanilla-query-order-key-case`, the signing-key
/// derivation example) and a KMS call cross-checked with botocore.
@Suite("AWS Signature Version 4")
struct SigV4Tests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2015-08-30T12:36:00Z, the time of AWS's test suite.
    static let date = Date(timeIntervalSince1970: 1_440_938_160)

    static func authorization(_ headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name == "Authorization" }?.value
    }

    @Test func getVanilla() throws {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service")
        let url = try #require(URL(string: "https://example.amazonaws.com/"))
        let headers = signer.signatureHeaders(method: "GET", url: url, headers: [], body: Data(), date: Self.date)
        #expect(headers.first { $0.name == "X-Amz-Date" }?.value == "20150830T123600Z")
        #expect(
            Self.authorization(headers)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    }

    @Test func queryParametersAreSortedAndEncoded() throws {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service")
        let url = try #require(URL(string: "https://example.amazonaws.com/?Param2=value2&Param1=value1"))
        let headers = signer.signatureHeaders(method: "GET", url: url, headers: [], body: Data(), date: Self.date)
        #expect(Self.authorization(headers)?.hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500") == true)
        #expect(SigV4Signer.encode("a b/c~d") == "a%20b%2Fc~d")
    }

    @Test func signingKeyDerivation() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "iam")
        let key = signer.signingKey(day: "20120215").withUnsafeBytes { Data($0) }
        #expect(key.hexString == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    /// A KMS JSON 1.1 call with a session token, on a loopback endpoint with a port; the expected signature is what
    /// botocore's SigV4Auth computes for the same request.
    @Test func kmsCallWithSessionToken() throws {
        let credentials = AWSCredentials(
            accessKeyID: "AKIDEXAMPLE",
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: "TOKEN"
        )
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1", service: "kms")
        let url = try #require(URL(string: "http://127.0.0.1:4566/"))
        let headers = signer.signatureHeaders(
            method: "POST",
            url: url,
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "TrentService.GenerateDataKey")],
            body: Data(#"{"KeyId":"k","KeySpec":"AES_256"}"#.utf8),
            date: Self.date
        )
        #expect(headers.first { $0.name == "X-Amz-Security-Token" }?.value == "TOKEN")
        #expect(
            Self.authorization(headers)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/kms/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
                + "Signature=4256b887c6d049a01678b133b710af2dacbb6ebfe311a679884a20546d67c11c"
        )
    }

    @Test func credentialsNeverShowTheirSecret() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret-canary-123", sessionToken: "token-canary-456")
        for text in ["\(credentials)", String(reflecting: credentials)] {
            #expect(text.contains("AKIDEXAMPLE") && !text.contains("secret-canary-123") && !text.contains("token-canary-456"))
        }
    }
}
