import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage

/// `--app-users N`: an external app ("benchmark-app") whose N end users `user-0` … `user-(N-1)` each have a GitHub
/// credential, written by the bulk seed. Prints `APP_KEY=` and `APP_USERS=` (the count) once done. Every secret has
/// the same size (a 200-character access token, a 100-character refresh token), so runs at different counts differ
/// only in how many rows there are.
func seedAppUsers(runtime: LatchkeyRuntime, count: Int) async throws {
    let tenantID = runtime.defaultTenant.id
    let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger)
    let (app, key) = try await apps.create(.init(name: "benchmark-app"), tenantID: tenantID, actor: .cli)
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    func token(_ count: Int) -> String { String((0..<count).map { _ in alphabet.randomElement()! }) }
    let accessToken = token(200)
    let refreshToken = token(100)
    let started = Date()
    let plan = CredentialVault.SeedPlan(app: app, integrationKey: "github", count: count, externalIDPrefix: "user-") { n in
        // Unique per user: the token's tail is the user's number.
        CredentialSecret(accessToken: String(accessToken.dropLast(12)) + String(format: "%012d", n), refreshToken: refreshToken, tokenType: "Bearer")
    }
    let step = max(count / 10, 1)
    try await runtime.vault.seedEndUsers(plan, actor: .cli) { done in
        if done % step < 400 || done == count {
            FileHandle.standardError.write(Data("seeded \(done)/\(count) in \(Int(Date().timeIntervalSince(started))) s\n".utf8))
        }
    }
    say("APP_KEY=\(key)")
    say("APP_USERS=\(count)")
}
