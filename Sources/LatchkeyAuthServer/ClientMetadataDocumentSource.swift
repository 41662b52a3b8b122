/// What an OAuth client says about itself in its Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document):
/// the client is identified by the https URL of the document, and the document lists where codes may be sent.
/// Only public clients (`token_endpoint_auth_method` `none`) are described this way: a document cannot carry a secret.
public struct ClientMetadataDocument: Sendable, Equatable {
    /// The URL the document was fetched from, equal to its own `client_id`.
    public var clientID: String
    /// The name to show the person on the consent page, when the document gives one.
    public var clientName: String?
    /// The client's home page (an https URL), when the document gives a usable one.
    public var clientURI: String?
    /// The client's logo (an https URL), when the document gives a usable one.
    public var logoURI: String?
    /// Every redirect URI the client may use, each https or http to a loopback address, none with a fragment.
    public var redirectURIs: [String]

    public init(clientID: String, clientName: String? = nil, clientURI: String? = nil, logoURI: String? = nil, redirectURIs: [String]) {
        self.clientID = clientID
        self.clientName = clientName
        self.clientURI = clientURI
        self.logoURI = logoURI
        self.redirectURIs = redirectURIs
    }
}

/// Where the authorization server gets the metadata document of a client whose `client_id` is a URL.
public protocol ClientMetadataDocumentSource: Sendable {
    /// Fetches and validates the document at `clientID` (an https URL); throws ClientMetadataDocumentError
    /// (a LocalizedError with a plain message) when it cannot be used.
    func document(for clientID: String) async throws -> ClientMetadataDocument
}
