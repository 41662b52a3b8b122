import LatchkeyConnect
import LatchkeyOAuthClient
public import LatchkeyStorage

extension LatchkeyRuntime {
    /// Erases a console user outside the server (`latchkey users erase`): their credentials are revoked at the
    /// providers over a transport of its own, under the configured outbound policy, then everything is deleted
    /// (`AppService.eraseUser`).
    public func eraseUser(id: String, tenantID: String, actor: AuditActor) async throws -> ErasureSummary {
        let transport = AsyncHTTPClientTransport(policy: OutboundPolicy(allowPrivateNetwork: configuration.allowPrivateNetwork), logger: logger)
        let outbound = outboundServices(transport: transport)
        let apps = AppService(vault: vault, audit: audit, logger: logger)
        do {
            let summary = try await apps.eraseUser(userID: id, tenantID: tenantID, actor: actor) { credential, actor in
                try await outbound.connect.revokeAndDelete(credential, actor: actor)
            }
            try await transport.shutdown()
            return summary
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }
}
