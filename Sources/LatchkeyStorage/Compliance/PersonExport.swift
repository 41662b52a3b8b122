public import Foundation
public import LatchkeyCore

/// One value of an exported row: what a column held, never a secret (the export names its columns one by one).
public enum ExportValue: Sendable, Equatable, Encodable {
    case text(String)
    case number(Int)
    case flag(Bool)
    case time(Date)
    case null

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .flag(let value): try container.encode(value)
        case .time(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}

/// A row of an export, by column name in camelCase.
public typealias ExportRow = [String: ExportValue]

/// Everything Latchkey holds about one person (a console user or an app's end user), for a data-subject request:
/// metadata only — no token, secret, password hash, key, code hash or sealed bytes.
public struct PersonExport: Sendable, Encodable {
    /// `user` or `endUser`.
    public var kind: String
    public var exportedAt: Date
    public var profile: ExportRow
    public var identities: [ExportRow] = []
    public var passkeys: [ExportRow] = []
    public var sessions: [ExportRow] = []
    public var twoFactor: [ExportRow] = []
    public var endUsers: [ExportRow] = []
    public var credentials: [ExportRow] = []
    public var oauthGrants: [ExportRow] = []
    public var linkCodes: [ExportRow] = []
    public var auditEvents: [AuditEvent] = []
    public var requestLog: [ExportRow] = []

    public init(kind: String, exportedAt: Date, profile: ExportRow) {
        self.kind = kind
        self.exportedAt = exportedAt
        self.profile = profile
    }
}
