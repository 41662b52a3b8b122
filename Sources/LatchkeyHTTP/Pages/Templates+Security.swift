extension Templates {
    /// The pages of a person's sessions and linked accounts, by name.
    static let security: [(String, String)] = [

        ]
}
