import LatchkeyCore
import LatchkeyStorage
import Synchronization

/// The console app's id of each tenant, read once: it is made with the tenant and never changes, so the token path
/// of an admin key asks the database for it only on the first call.
final class ConsoleAppIDs: Sendable {
    private let known = Mutex<[String: String]>([:])

    /// The id of the console app of `tenantID`; nil for an unknown tenant.
    func id(tenantID: String, directory: DirectoryRepository) async throws -> String? {
        if let id = known.withLock({ $0[tenantID] }) { return id }
        guard let app = try await directory.consoleApp(tenantID: tenantID) else { return nil }
        known.withLock { $0[tenantID] = app.id }
        return app.id
    }
}
