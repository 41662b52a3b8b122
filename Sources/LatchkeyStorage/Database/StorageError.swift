/// A stored row that cannot be read as what it should hold: a column with the wrong type or JSON that does not parse.
/// Names the table, the column and the row, never the stored value.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    public let table: String
    public let column: String
    /// The row's id, or "unknown" when even the id cannot be read.
    public let rowID: String

    public init(table: String, column: String, rowID: String) {
        self.table = table
        self.column = column
        self.rowID = rowID
    }

    public var description: String { "unreadable stored value: \(table.isEmpty ? "" : "\(table).")\(column) of row \(rowID)" }

    /// Runs `read` (the decoding of one row) and names `table` in the `StorageError` it throws.
    static func naming<T>(table: String, _ read: () throws -> T) throws -> T {
        do {
            return try read()
        } catch var error as StorageError where error.table.isEmpty {
            error = StorageError(table: table, column: error.column, rowID: error.rowID)
            throw error
        }
    }

    /// The same in plain words for the person looking at the row.
    public var plainMessage: String {
        "The stored \(column) of this record cannot be read (the database row was altered or damaged). Nothing was changed; restore the row from a backup, or delete it and connect again."
    }
}
