extension Templates {
    /// The pages of single sign-on and social sign-in, by name. The sign-in page shows `login-single-sign-on` below the password form (values from the method's `LoginPageOptions`).
    static let singleSignOn: [(String, String)] = [
        ("login-single-sign-on", "")
    ]
}
