import Foundation
import LatchkeyAuthServer
import Testing

@Suite struct ClientMetadataDocumentValidatorTests {
    static let clientID = "https://app.example/oauth/client.json"

    func clientIDProblem(_ clientID: String, allowPrivateNetwork: Bool = false) -> String? {
        do {
            _ = try ClientMetadataDocumentValidator.documentURL(for: clientID, allowPrivateNetwork: allowPrivateNetwork)
            return nil
        } catch {
            return error.message
        }
    }

    func read(_ json: String, clientID: String = clientID) -> Result<ClientMetadataDocument, ClientMetadataDocumentError> {
        do {
            return .success(try ClientMetadataDocumentValidator.document(from: Data(json.utf8), clientID: clientID))
        } catch {
            return .failure(error)
        }
    }

    func problem(_ json: String) -> String? {
        guard case .failure(let error) = read(json) else {
            Issue.record("document accepted: \(json)")
            return nil
        }
        return error.message
    }

    // MARK: - The client_id URL

    @Test(arguments: ["https://app.example/oauth/client.json", "https://app.example:8443/c?version=2", "https://APP.example/c"])
    func httpsURLsWithAPathAreAccepted(clientID: String) {
        #expect(clientIDProblem(clientID) == nil)
    }

    @Test(arguments: [
        ("http://app.example/c", "must start with https://"),
        ("ftp://app.example/c", "must start with https://"),
        ("javascript:alert(1)", "https URL with a host"),
        ("app.example/c", "not a URL"),
        ("https://app.example", "must have a path"),
        ("https://app.example/", "must have a path"),
        ("https://app.example/c#top", "fragment"),
        ("https://app.example/c#", "fragment"),
        ("https://user@app.example/c", "user name or password"),
        ("https://user:secret@app.example/c", "user name or password"),
        ("https://app.example/a/../c", "\"..\" segments"),
        ("https://app.example/./c", "\"..\" segments"),
        ("https://app.example/a/%2E%2E/c", "\"..\" segments"),
        ("https://app.example/c d", "space or a control character"),
        ("http://10.0.0.5/c", "must start with https://"),
        ("https://app.example/" + String(repeating: "a", count: 2100), "longer than 2048 characters"),
    ])
    func otherClientIDsAreRefusedWithTheReason(clientID: String, reason: String) {
        let problem = clientIDProblem(clientID, allowPrivateNetwork: true)
        #expect(problem?.contains(reason) == true, "\(clientID): \(problem ?? "accepted")")
        #expect(problem?.contains("developer has to fix it") == true)
    }

    @Test(arguments: ["http://127.0.0.1:8123/client.json", "http://localhost:8123/client.json", "http://[::1]:8123/client.json"])
    func plainHTTPToLoopbackIsTheLocalTestModeOnly(clientID: String) {
        #expect(clientIDProblem(clientID, allowPrivateNetwork: true) == nil)
        #expect(clientIDProblem(clientID)?.contains("--allow-private-network") == true)
    }

    // MARK: - The document

    @Test func aCompleteDocumentIsRead() throws {
        let document = try read(
            """
            {"client_id": "\(Self.clientID)", "client_name": "  Example App ", "client_uri": "https://app.example/",
             "logo_uri": "https://app.example/logo.png", "token_endpoint_auth_method": "none",
             "redirect_uris": ["https://app.example/callback", "http://127.0.0.1:33418/callback", "http://[::1]/cb", "http://localhost/cb"],
             "grant_types": ["authorization_code", "refresh_token"]}
            """
        ).get()
        #expect(
            document
                == ClientMetadataDocument(
                    clientID: Self.clientID,
                    clientName: "Example App",
                    clientURI: "https://app.example/",
                    logoURI: "https://app.example/logo.png",
                    redirectURIs: [
                        "https://app.example/callback", "http://127.0.0.1:33418/callback", "http://[::1]/cb", "http://localhost/cb",
                    ]
                )
        )
    }

    @Test func chatGPTsShapeIsAcceptedAsAPublicClient() throws {
        let document = try read(
            """
            {"client_id": "\(Self.clientID)", "client_name": "ChatGPT", "redirect_uris": ["https://chatgpt.com/connector/oauth/abc"],
             "token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
             "jwks_uri": "https://app.example/jwks.json", "grant_types": ["authorization_code", "refresh_token"]}
            """
        ).get()
        #expect(document.redirectURIs == ["https://chatgpt.com/connector/oauth/abc"])
    }

    @Test func privateKeyJWTWithoutNoneIsRefused() {
        let problem = problem(
            """
            {"client_id": "\(Self.clientID)", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}
            """
        )
        #expect(problem?.contains("private_key_jwt, which Latchkey does not accept") == true)
    }

    @Test(arguments: ["client_secret_basic", "client_secret_post", "client_secret_jwt"])
    func aSecretMethodIsRefusedEvenWhenNoneIsListed(method: String) {
        let problem = problem(
            """
            {"client_id": "\(Self.clientID)", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "\(method)",
             "token_endpoint_auth_methods_supported": ["\(method)", "none"]}
            """
        )
        #expect(problem?.contains("client secret (\(method)), which a published document cannot carry") == true)
    }

    @Test func aDocumentCarryingASecretIsRefused() {
        let problem = problem(
            #"{"client_id": "\#(Self.clientID)", "redirect_uris": ["https://app.example/cb"], "client_secret": "s3cr3t-value"}"#
        )
        #expect(problem?.contains("contains a client secret") == true)
        #expect(problem?.contains("s3cr3t-value") == false)
    }

    @Test(arguments: ["https://app.example/oauth/client.json/", "https://APP.example/oauth/client.json", "https://app.example/other.json"])
    func aClientIDThatIsNotExactlyTheURLIsRefused(documentID: String) {
        let problem = problem(#"{"client_id": "\#(documentID)", "redirect_uris": ["https://app.example/cb"]}"#)
        #expect(problem?.contains("client_id is not exactly the address it was fetched from") == true)
    }

    @Test(arguments: [
        (#"{"redirect_uris": ["https://app.example/cb"]}"#, "it has no client_id"),
        ("[1, 2]", "not a JSON object"),
        ("<html>", "not a JSON object"),
        (#"{"client_id": "\#(clientID)"}"#, "no redirect_uris list"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": "https://app.example/cb"}"#, "no redirect_uris list"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": []}"#, "redirect_uris list is empty"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": [7]}"#, "is not text"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": ["http://app.example/cb"]}"#, "neither https nor http to this machine"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": ["https://app.example/cb#x"]}"#, "fragment"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": ["javascript:alert(1)"]}"#, "no host"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": ["https://user@app.example/cb"]}"#, "user name or password"),
        (#"{"client_id": "\#(clientID)", "redirect_uris": ["https://app.example/cb", "cursor://cb"]}"#, "\"cursor://cb\""),
        (#"{"client_id": "\#(clientID)", "redirect_uris": ["https://app.example/cb"], "client_name": 5}"#, "client_name is not text"),
    ])
    func anUnusableDocumentIsRefusedWithTheReason(json: String, reason: String) {
        let problem = problem(json)
        #expect(problem?.contains(reason) == true, "\(json): \(problem ?? "accepted")")
    }

    @Test func linksThatAreNotHTTPSAreDroppedNotShown() throws {
        let document = try read(
            """
            {"client_id": "\(Self.clientID)", "redirect_uris": ["https://app.example/cb"], "client_uri": "javascript:alert(1)",
             "logo_uri": "http://app.example/logo.png"}
            """
        ).get()
        #expect(document.clientURI == nil)
        #expect(document.logoURI == nil)
    }
}
