extension Templates {
    /// The pages of passkeys, by name. The sign-in page shows `login-passkey` below the password form (values from the method's `LoginPageOptions`).
    static let passkeys: [(String, String)] = [
        ("login-passkey", "")
    ]
}
