import Foundation
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// `POST /api/v1/credentials`.
struct CreateCredentialRequest: Decodable, AllowedKeys {
    var integration: String
    var externalUserId: String?
    var connectionId: String?
    var type: String
    var accessToken: String?
    var refreshToken: String?
    var tokenType: String?
    var idToken: String?
    var apiKey: String?
    var username: String?
    var password: String?
    var expiresAt: String?
    var scopes: [String]?
    var label: String?
    var providerAccount: String?
    var connectionConfig: [String: String]?

    static let allowedKeys: Set<String> = [
        "integration", "externalUserId", "connectionId", "type", "accessToken", "refreshToken", "tokenType", "idToken", "apiKey", "username",
        "password", "expiresAt", "scopes", "label", "providerAccount", "connectionConfig",
    ]

    /// Checks every field and reports all problems at once.
    func validated() throws -> CredentialVault.NewCredential {
        var problems: [LatchkeyError.FieldError] = []
        func problem(_ path: String, _ message: String) { problems.append(.init(path: path, message: message)) }
        let integration = integration.trimmingCharacters(in: .whitespaces)
        if !IntegrationRules.isStoredKey(integration) {
            problem("integration", "must be 1 to 64 letters, digits, dashes, dots or underscores")
        }
        if let externalUserId, externalUserId.isEmpty || externalUserId.unicodeScalars.count > 255 {
            problem("externalUserId", "must be 1 to 255 characters")
        }
        if let connectionId, UUID(uuidString: connectionId) == nil { problem("connectionId", "is not a valid connection id") }
        let credentialType = CredentialType(rawValue: type)
        if credentialType == nil { problem("type", "must be one of oauth2, api_key, basic") }
        switch credentialType {
        case .oauth2:
            if accessToken?.isEmpty ?? true { problem("accessToken", "is required for an oauth2 credential") }
        case .apiKey:
            if apiKey?.isEmpty ?? true { problem("apiKey", "is required for an api_key credential") }
        case .basic:
            if username?.isEmpty ?? true { problem("username", "is required for a basic credential") }
            if password == nil { problem("password", "is required for a basic credential") }
        case nil: break
        }
        for (path, value) in [
            ("accessToken", accessToken), ("refreshToken", refreshToken), ("idToken", idToken), ("apiKey", apiKey), ("password", password),
        ] {
            if let value, value.utf8.count > 64 * 1024 { problem(path, "is longer than 64 KiB") }
        }
        if let label, label.count > 200 { problem("label", "must be at most 200 characters") }
        if let scopes, scopes.count > 500 || scopes.contains(where: { $0.isEmpty || $0.count > 500 }) {
            problem("scopes", "must be at most 500 non-empty scopes")
        }
        if let connectionConfig, connectionConfig.count > 50 { problem("connectionConfig", "must have at most 50 entries") }
        let expiry = expiresAt.flatMap(ISO8601.parse)
        if expiresAt != nil, expiry == nil { problem("expiresAt", "must be an ISO 8601 date-time such as 2030-01-01T00:00:00Z") }
        if !problems.isEmpty {
            throw LatchkeyError.invalidRequest(
                "The credential is not valid: " + problems.map { "\($0.path) \($0.message)" }.joined(separator: "; ") + ".",
                fields: problems
            )
        }
        return CredentialVault.NewCredential(
            integration: integration,
            externalUserID: externalUserId,
            connectionID: connectionId?.lowercased(),
            type: credentialType!,
            secret: CredentialSecret(
                accessToken: accessToken,
                refreshToken: refreshToken,
                tokenType: tokenType,
                idToken: idToken,
                apiKey: apiKey,
                username: username,
                password: password
            ),
            expiresAt: expiry,
            scopes: scopes ?? [],
            label: label,
            providerAccount: providerAccount,
            connectionConfig: connectionConfig ?? [:]
        )
    }
}

/// `PATCH /api/v1/credentials/{id}`.
struct UpdateCredentialRequest: Decodable, AllowedKeys {
    var label: String?
    var scopes: [String]?
    var expiresAt: String?
    var isDefault: Bool?
    var providerAccount: String?
    var accessToken: String?
    var refreshToken: String?
    var apiKey: String?
    var username: String?
    var password: String?

    static let allowedKeys: Set<String> = [
        "label", "scopes", "expiresAt", "isDefault", "providerAccount", "accessToken", "refreshToken", "apiKey", "username", "password",
    ]

    var changesSecret: Bool { accessToken != nil || refreshToken != nil || apiKey != nil || username != nil || password != nil }
}

/// What the API shows of a credential: never a secret.
struct CredentialResponse: Encodable {
    var id: String
    var integration: String
    var connectionId: String
    var externalUserId: String?
    var type: String
    var status: String
    var statusReason: String?
    var label: String?
    var isDefault: Bool
    var scopes: [String]
    var expiresAt: Date?
    var providerAccount: String?
    var connectionConfig: [String: String]
    var keyVersion: Int
    var version: Int
    var connectedAt: Date
    var lastRefreshedAt: Date?
    var lastUsedAt: Date?
    var createdAt: Date
    var updatedAt: Date
    /// Something the caller should act on (an import that created its integration, disabled).
    var notice: String?

    init(_ c: Credential) {
        id = c.id
        integration = c.integrationKey
        connectionId = c.connectionID
        externalUserId = c.externalUserID
        type = c.type.rawValue
        status = c.status.rawValue
        statusReason = c.statusReason
        label = c.label
        isDefault = c.isDefault
        scopes = c.scopes
        expiresAt = c.expiresAt
        providerAccount = c.providerAccount
        connectionConfig = c.connectionConfig
        keyVersion = c.keyVersion
        version = c.version
        connectedAt = c.connectedAt
        lastRefreshedAt = c.lastRefreshedAt
        lastUsedAt = c.lastUsedAt
        createdAt = c.createdAt
        updatedAt = c.updatedAt
    }
}

/// One item of `GET /api/v1/credentials`: a credential, or a row that cannot be read (`status: "unreadable"`, with
/// the damaged column and what to do; nothing stored in it).
enum CredentialListItem: Encodable {
    case credential(CredentialResponse)
    case unreadable(UnreadableCredentialResponse)

    init(_ entry: CredentialPage.Entry) {
        switch entry {
        case .credential(let credential): self = .credential(CredentialResponse(credential))
        case .unreadable(let row): self = .unreadable(UnreadableCredentialResponse(row))
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .credential(let response): try response.encode(to: encoder)
        case .unreadable(let response): try response.encode(to: encoder)
        }
    }
}

struct UnreadableCredentialResponse: Encodable {
    struct Problem: Encodable {
        var column: String
        var message: String
    }
    var id: String
    var integration: String?
    var connectionId: String?
    var status = "unreadable"
    var error: Problem

    init(_ row: UnreadableCredential) {
        id = row.id
        integration = row.integrationKey
        connectionId = row.connectionID
        error = Problem(
            column: row.error.column,
            message: "The stored \(row.error.column) of this credential cannot be read (the database row was altered or damaged). "
                + "Nothing was changed. Delete it (DELETE /api/v1/credentials/\(row.id)) and connect the account again, or restore the row from a backup."
        )
    }
}

/// `POST /api/v1/credentials/{id}/reveal`.
struct RevealResponse: Encodable {
    var credential: CredentialResponse
    var secret: CredentialSecret
}

/// ISO 8601 date-times, with or without fractional seconds.
enum ISO8601 {
    /// What the OpenAPI document's `InputDateTime` allows: RFC 3339 with an upper-case `T` and `Z`, no leap second, and an
    /// offset of at most 18 hours.
    static let shape =
        #"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-](0[0-9]|1[0-7]):[0-5][0-9]|[+-]18:00)"#

    static func parse(_ text: String) -> Date? {
        guard let regex = try? Regex(shape), (try? regex.wholeMatch(in: text)) != nil else { return nil }
        // A day the month does not have (November 31) is refused rather than rolled over into the next month.
        let digits = text.utf8.prefix(10).split(separator: UInt8(ascii: "-")).map { Int(String(decoding: $0, as: UTF8.self)) ?? 0 }
        let (year, month, day) = (digits[0], digits[1], digits[2])
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        guard day <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
