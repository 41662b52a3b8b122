public import Hummingbird
import LatchkeyCore
import LatchkeyStorage
import Logging
import NIOCore
public import Prometheus
import ServiceLifecycle

/// What `buildApplication` needs besides the runtime.
public struct ApplicationDependencies: Sendable {
    /// The Prometheus registry behind `/metrics` (the process bootstraps swift-metrics with it).
    public var registry: PrometheusCollectorRegistry?
    /// Run the background services (key re-wrap) with the server.
    public var runBackgroundServices: Bool
    /// Close the database when the server shuts down (tests that clean up afterwards keep it open).
    public var ownsDatabase: Bool
    /// Records the `/api/v1` routes as they are registered.
    public var routeRecorder: RouteRecorder?

    public init(
        registry: PrometheusCollectorRegistry? = nil,
        runBackgroundServices: Bool = true,
        ownsDatabase: Bool = true,
        routeRecorder: RouteRecorder? = nil
    ) {
        self.registry = registry
        self.runBackgroundServices = runBackgroundServices
        self.ownsDatabase = ownsDatabase
        self.routeRecorder = routeRecorder
    }
}

/// The Latchkey HTTP application over an opened runtime.
public func buildApplication(
    runtime: LatchkeyRuntime,
    dependencies: ApplicationDependencies = .init(),
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(runtime: runtime, dependencies: dependencies)
    var services: [any Service] = dependencies.ownsDatabase ? [runtime.database] : []
    if dependencies.runBackgroundServices {
        services.append(runtime.rewrapService())
    }
    let configuration = runtime.configuration
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: onServerRunning,
        logger: runtime.logger
    )
}

/// Every route, with its middleware.
public func buildRouter(runtime: LatchkeyRuntime, dependencies: ApplicationDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // Outermost first: metrics and the request log see the status the error middleware chose.
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: ErrorMiddleware())
    OpsController(database: runtime.database, registry: dependencies.registry).addRoutes(to: router)
    router.get("/") { _, _ in
        HTMLPage.render(
            "message",
            title: "Latchkey",
            context: [
                "heading": "Latchkey is running",
                "message": "This server keeps credentials for your tools and agents. The API lives under /api/v1 and is described at /openapi.json.",
                "home": false,
            ]
        )
    }
    SetupController(tenants: runtime.tenants, tenant: runtime.defaultTenant, publicURL: runtime.configuration.effectivePublicURL)
        .addRoutes(to: router)
    let api = router.group("api/v1")
        .add(middleware: AdminKeyAuthenticator(tenants: runtime.tenants))
        .group(context: AdminContext.self)
    let recorder = dependencies.routeRecorder
    CredentialsController(vault: runtime.vault, maxBodySize: runtime.configuration.maxBodySize).addRoutes(to: api, recorder: recorder)
    AuditController(audit: runtime.audit).addRoutes(to: api, recorder: recorder)
    return router
}
