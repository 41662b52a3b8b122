import Foundation

/// Which database Latchkey keeps its data in.
public enum DatabaseConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite file (WAL mode, busy timeout); one instance only.
    case sqlite(path: String)
    /// A PostgreSQL database; any number of instances may share it.
    case postgres(PostgresSettings)

    public struct PostgresSettings: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var tlsMode: String
        /// Optional schema (`?search_path=` or `?schema=`), so that tests can isolate themselves.
        public var schema: String?
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require&schema=name`.
    public static func postgres(url: String) throws -> DatabaseConfiguration {
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw DatabaseError.configuration("LATCHKEY_DATABASE_URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw DatabaseError.configuration("LATCHKEY_DATABASE_URL has no host")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let tlsMode = query["sslmode"] ?? "prefer"
        guard ["disable", "prefer", "require"].contains(tlsMode) else {
            throw DatabaseError.configuration("sslmode must be disable, prefer or require")
        }
        let schema = query["schema"] ?? query["search_path"]
        if let schema, schema.isEmpty || !schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw DatabaseError.configuration("schema must be letters, digits and underscores")
        }
        return .postgres(
            PostgresSettings(
                host: host,
                port: components.port ?? 5432,
                username: components.user ?? "postgres",
                password: components.password,
                database: database.isEmpty ? (components.user ?? "postgres") : database,
                tlsMode: tlsMode,
                schema: schema
            )
        )
    }

    /// Without the password.
    public var description: String {
        switch self {
        case .sqlite(let path): "SQLite at \(path)"
        case .postgres(let settings):
            "PostgreSQL at \(settings.host):\(settings.port)/\(settings.database)" + (settings.schema.map { " (schema \($0))" } ?? "")
        }
    }
}

/// Faults of the database layer, worded without connection secrets.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public static func configuration(_ message: String) -> Self { .init(description: message) }
    public static func unavailable(_ what: String) -> Self { .init(description: "The database is not reachable: \(what)") }
}
