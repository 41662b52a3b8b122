public import LatchkeyCore

/// A page of a credential listing: every row in order, readable or not, and the cursor of the next page.
public struct CredentialPage: Sendable {
    /// One row of the page.
    public enum Entry: Sendable {
        case credential(Credential)
        /// A row that cannot be read; listed so one damaged row does not hide the others.
        case unreadable(UnreadableCredential)
    }

    public var entries: [Entry]
    public var nextCursor: String?

    public init(entries: [Entry], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }

    /// The readable credentials of the page.
    public var items: [Credential] {
        entries.compactMap {
            if case .credential(let credential) = $0 { return credential }
            return nil
        }
    }

    /// The rows of the page that cannot be read.
    public var unreadable: [UnreadableCredential] {
        entries.compactMap {
            if case .unreadable(let row) = $0 { return row }
            return nil
        }
    }
}

/// What is known of a credential row that cannot be read: its id, and which column is damaged. Nothing stored in
/// the damaged column is carried.
public struct UnreadableCredential: Sendable, Equatable {
    public var id: String
    public var integrationKey: String?
    public var connectionID: String?
    /// The row's status reason, when it can be read (tells whether the row was already flagged).
    public var statusReason: String?
    public var error: StorageError

    public init(id: String, integrationKey: String?, connectionID: String?, statusReason: String?, error: StorageError) {
        self.id = id
        self.integrationKey = integrationKey
        self.connectionID = connectionID
        self.statusReason = statusReason
        self.error = error
    }
}
