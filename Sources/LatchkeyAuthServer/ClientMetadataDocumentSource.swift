/// A client described by its Client ID Metadata Document: the `client_id` is the https URL of the document.
public struct ClientMetadataDocument: Sendable, Equatable {
    public var clientID: String
    public var clientName: String?
    public var clientURI: String?
    public var logoURI: String?
    public var redirectURIs: [String]

    public init(clientID: String, clientName: String?, clientURI: String?, logoURI: String?, redirectURIs: [String]) {
        self.clientID = clientID
        self.clientName = clientName
        self.clientURI = clientURI
        self.logoURI = logoURI
        self.redirectURIs = redirectURIs
    }
}

/// Where Client ID Metadata Documents come from.
public protocol ClientMetadataDocumentSource: Sendable {
    /// Fetches and validates the document at `clientID` (an https URL); throws ClientMetadataDocumentError
    /// (a LocalizedError with a plain message) when it cannot be used.
    func document(for clientID: String) async throws -> ClientMetadataDocument
}
