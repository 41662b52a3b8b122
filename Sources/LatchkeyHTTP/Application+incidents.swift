import Hummingbird
import LatchkeyBootstrap
import LatchkeyConnect
import LatchkeyCore
import LatchkeyStorage

/// Incident response (NFR-4): the API (`/api/v1/incidents/*`, `/api/v1/admin-keys`) and the console page
/// (`/admin/incidents`).
func addIncidentRoutes(
    runtime: LatchkeyRuntime,
    outbound: OutboundServices,
    apps: AppService,
    sessions: WebSessions,
    api: RouterGroup<AdminContext>,
    admin: RouterGroup<AdminPageContext>,
    recorder: RouteRecorder?
) {
    let incidents = runtime.incidentResponse(outbound: outbound)
    let scopes = IncidentScopes(integrations: runtime.integrations.integrations, apps: apps.apps)
    IncidentsController(incidents: incidents, scopes: scopes, maxBodySize: runtime.configuration.maxBodySize).addRoutes(to: api, recorder: recorder)
    AdminKeysController(tenants: runtime.tenants).addRoutes(to: api, recorder: recorder)
    AdminIncidentsPagesController(incidents: incidents, scopes: scopes, apps: apps, tenants: runtime.tenants, sessions: sessions)
        .addRoutes(to: admin)
}
