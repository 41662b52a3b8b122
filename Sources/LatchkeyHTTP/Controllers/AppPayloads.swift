import Foundation
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// Keys of a nested object, checked like the top level: unknown fields are refused by name.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    static func refuseUnknown(in decoder: any Decoder, allowed: Set<String>, object: String) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        let unknown = keys.filter { !allowed.contains($0) }.map(FieldName.safe).sorted()
        if let first = unknown.first {
            throw LatchkeyError.invalidField("\(object).\(first)", "is not a known field (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }
}

/// `branding` in app bodies; a field left out or null is not set.
struct BrandingBody: Decodable {
    var displayName: String?
    var logoUrl: String?
    var accentColor: String?
    var privacyUrl: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case displayName, logoUrl, accentColor, privacyUrl }

    init(from decoder: any Decoder) throws {
        try AnyKey.refuseUnknown(in: decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)), object: "branding")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        for key in CodingKeys.allCases where container.contains(key) {
            if try container.decodeNil(forKey: key) {
                throw LatchkeyError.invalidField("branding.\(key.rawValue)", "must not be null (leave it out instead)")
            }
        }
        displayName = try container.decodeIfPresent(String.self, forKey: .displayName)
        logoUrl = try container.decodeIfPresent(String.self, forKey: .logoUrl)
        accentColor = try container.decodeIfPresent(String.self, forKey: .accentColor)
        privacyUrl = try container.decodeIfPresent(String.self, forKey: .privacyUrl)
    }

    func validated() throws -> AppBranding {
        if let name = displayName, let problem = AppRules.nameProblem(name) { throw LatchkeyError.invalidField("branding.displayName", problem) }
        if let url = logoUrl, let problem = AppRules.httpsURLProblem(url) { throw LatchkeyError.invalidField("branding.logoUrl", problem) }
        if let color = accentColor, let problem = AppRules.colorProblem(color) { throw LatchkeyError.invalidField("branding.accentColor", problem) }
        if let url = privacyUrl, let problem = AppRules.httpsURLProblem(url) { throw LatchkeyError.invalidField("branding.privacyUrl", problem) }
        return AppBranding(displayName: displayName, logoURL: logoUrl, accentColor: accentColor?.lowercased(), privacyURL: privacyUrl)
    }
}

/// `permissions` in app bodies: `integrations` (null or left out: all) and `operations` (left out: all).
struct PermissionsBody: Decodable {
    var integrations: [String]?
    var operations: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case integrations, operations }

    init(from decoder: any Decoder) throws {
        try AnyKey.refuseUnknown(in: decoder, allowed: Set(CodingKeys.allCases.map(\.rawValue)), object: "permissions")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        integrations = try container.decodeIfPresent([String].self, forKey: .integrations)
        if container.contains(.operations), try container.decodeNil(forKey: .operations) {
            throw LatchkeyError.invalidField("permissions.operations", "must be an array of operations, not null (leave it out for all)")
        }
        operations = try container.decodeIfPresent([String].self, forKey: .operations)
    }

    func validated() throws -> AppPermissions {
        if let keys = integrations {
            guard keys.count <= 100 else { throw LatchkeyError.invalidField("permissions.integrations", "must list at most 100 integrations") }
            if let bad = keys.first(where: { !IntegrationRules.isStoredKey($0) }) {
                throw LatchkeyError.invalidField("permissions.integrations", "has \(FieldName.safe(bad)), which is not an integration key")
            }
        }
        var ops = AppPermissions.Operation.allCases
        if let names = operations {
            ops = []
            for name in names {
                guard let op = AppPermissions.Operation(rawValue: name) else {
                    throw LatchkeyError.invalidField(
                        "permissions.operations",
                        "has \(FieldName.safe(name)); operations are \(AppPermissions.Operation.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                if !ops.contains(op) { ops.append(op) }
            }
        }
        return AppPermissions(integrations: integrations.map { Array(Set($0)).sorted() }, operations: ops)
    }
}

/// `POST /api/v1/apps`.
struct CreateAppRequest: Decodable, AllowedKeys {
    var name: String
    var description: String?
    var branding: BrandingBody?
    var allowedRedirectOrigins: [String]?
    var permissions: PermissionsBody?

    static let allowedKeys: Set<String> = ["name", "description", "branding", "allowedRedirectOrigins", "permissions"]
}

/// `PATCH /api/v1/apps/{id}`: fields left out stay as they are; `description: null` clears it.
struct PatchAppRequest: Decodable, AllowedKeys {
    var name: String?
    var description: String??
    var status: String?
    var branding: BrandingBody?
    var allowedRedirectOrigins: [String]?
    var permissions: PermissionsBody?

    static let allowedKeys: Set<String> = ["name", "description", "status", "branding", "allowedRedirectOrigins", "permissions"]
    static let nullableKeys: Set<String> = ["description"]

    enum CodingKeys: String, CodingKey { case name, description, status, branding, allowedRedirectOrigins, permissions }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        if container.contains(.description) {
            description = .some(try container.decodeNil(forKey: .description) ? nil : try container.decode(String.self, forKey: .description))
        }
        status = try container.decodeIfPresent(String.self, forKey: .status)
        branding = try container.decodeIfPresent(BrandingBody.self, forKey: .branding)
        allowedRedirectOrigins = try container.decodeIfPresent([String].self, forKey: .allowedRedirectOrigins)
        permissions = try container.decodeIfPresent(PermissionsBody.self, forKey: .permissions)
    }
}

enum AppValidation {
    static func name(_ name: String) throws -> String {
        if let problem = AppRules.nameProblem(name) { throw LatchkeyError.invalidField("name", problem) }
        return name.trimmingCharacters(in: .whitespaces)
    }

    static func description(_ text: String) throws -> String {
        guard text.count <= 500 else { throw LatchkeyError.invalidField("description", "must be at most 500 characters") }
        return text
    }

    static func origins(_ list: [String]) throws -> [String] {
        guard list.count <= 20 else { throw LatchkeyError.invalidField("allowedRedirectOrigins", "must list at most 20 origins") }
        var out: [String] = []
        for (index, text) in list.enumerated() {
            switch AppRules.origin(text) {
            case .success(let origin): if !out.contains(origin) { out.append(origin) }
            case .failure(let problem): throw LatchkeyError.invalidField("allowedRedirectOrigins[\(index)]", problem.message)
            }
        }
        return out
    }
}

/// An app as the API shows it; `apiKey` only in the answers that create it.
struct AppResponse: Encodable {
    struct Branding: Encodable {
        var displayName: String?
        var logoUrl: String?
        var accentColor: String?
        var privacyUrl: String?
    }
    struct Permissions: Encodable {
        var integrations: [String]?
        var operations: [String]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(integrations, forKey: .integrations)
            try container.encode(operations, forKey: .operations)
        }
        enum CodingKeys: String, CodingKey { case integrations, operations }
    }

    var id: String
    var name: String
    var kind: String
    var description: String?
    var status: String
    var branding: Branding
    var allowedRedirectOrigins: [String]
    var permissions: Permissions
    var keyPrefix: String?
    var createdAt: Date
    var updatedAt: Date
    var apiKey: String?

    init(_ app: App, apiKey: String? = nil) {
        id = app.id
        name = app.name
        kind = app.kind.rawValue
        description = app.description
        status = app.status.rawValue
        branding = Branding(
            displayName: app.branding.displayName,
            logoUrl: app.branding.logoURL,
            accentColor: app.branding.accentColor,
            privacyUrl: app.branding.privacyURL
        )
        allowedRedirectOrigins = app.allowedRedirectOrigins
        permissions = Permissions(integrations: app.permissions.integrations, operations: app.permissions.operations.map(\.rawValue))
        keyPrefix = app.keyPrefix
        createdAt = app.createdAt
        updatedAt = app.updatedAt
        self.apiKey = apiKey
    }
}

/// `PUT /api/v1/apps/{id}/integrations/{key}/config`: `clientSecret` left out keeps the stored one, null removes it.
struct PutAppConfigRequest: Decodable, AllowedKeys {
    var clientId: String
    var clientSecret: String??
    var scopes: [String]?

    static let allowedKeys: Set<String> = ["clientId", "clientSecret", "scopes"]
    static let nullableKeys: Set<String> = ["clientSecret"]

    enum CodingKeys: String, CodingKey { case clientId, clientSecret, scopes }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clientId = try container.decode(String.self, forKey: .clientId)
        if container.contains(.clientSecret) {
            clientSecret = .some(try container.decodeNil(forKey: .clientSecret) ? nil : try container.decode(String.self, forKey: .clientSecret))
        }
        scopes = try container.decodeIfPresent([String].self, forKey: .scopes)
    }
}

struct AppConfigResponse: Encodable {
    var appId: String
    var integration: String
    var clientId: String
    var hasClientSecret: Bool
    var scopes: [String]
    var createdAt: Date
    var updatedAt: Date

    init(_ config: AppIntegrationConfig) {
        appId = config.appID
        integration = config.integrationKey
        clientId = config.clientID
        hasClientSecret = config.hasClientSecret
        scopes = config.scopes
        createdAt = config.createdAt
        updatedAt = config.updatedAt
    }
}
