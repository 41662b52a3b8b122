public import Foundation

/// What a valid access token lets its bearer do: act as the console user `userID` of `tenantID` with the MCP tools
/// of the granted `services`, at `resource`, until `expiresAt`.
public struct VerifiedAccessToken: Sendable, Equatable {
    public var tenantID: String
    /// The console User's id (also the `externalId` of the console app's end user for that person).
    public var userID: String
    public var clientID: String
    public var grantID: String
    public var scopes: [String]
    /// The integration keys granted.
    public var services: [String]
    /// The canonical resource the token is bound to.
    public var resource: String
    public var expiresAt: Date

    public init(
        tenantID: String,
        userID: String,
        clientID: String,
        grantID: String,
        scopes: [String],
        services: [String],
        resource: String,
        expiresAt: Date
    ) {
        self.tenantID = tenantID
        self.userID = userID
        self.clientID = clientID
        self.grantID = grantID
        self.scopes = scopes
        self.services = services
        self.resource = resource
        self.expiresAt = expiresAt
    }
}
