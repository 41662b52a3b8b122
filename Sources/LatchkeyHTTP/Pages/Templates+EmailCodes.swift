extension Templates {
    /// The pages of email codes and the TOTP second factor, by name. The sign-in page shows `login-email-code` below the password form (values from the method's `LoginPageOptions`).
    static let emailCodes: [(String, String)] = [
        ("login-email-code", "")
    ]
}
