extension Templates {
    /// The pages of link codes (an app's user linked to a person), by name.
    static let linking: [(String, String)] = [

        ]
}
