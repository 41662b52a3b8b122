import Foundation
public import Hummingbird
import LatchkeyAuthServer
public import LatchkeyBootstrap
import LatchkeyConnect
import LatchkeyCore
import LatchkeyGateway
import LatchkeyLifecycle
import LatchkeyMCP
import LatchkeyOAuthClient
import LatchkeyStorage
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The Latchkey HTTP application over an opened runtime.
public func buildApplication(
    runtime: LatchkeyRuntime,
    dependencies: ApplicationDependencies = .init(),
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    var dependencies = dependencies
    var services: [any Service] = dependencies.ownsDatabase ? [runtime.database] : []
    if dependencies.transport == nil {
        let policy = OutboundPolicy(allowPrivateNetwork: runtime.configuration.allowPrivateNetwork)
        let transport = AsyncHTTPClientTransport(policy: policy, logger: runtime.logger)
        dependencies.transport = transport
        services.append(transport)
    }
    let outbound = runtime.outboundServices(transport: dependencies.transport ?? UnavailableTransport())
    dependencies.outbound = outbound
    let requestLog = dependencies.requestLog ?? RequestLogWriter(database: runtime.database, logger: runtime.logger)
    dependencies.requestLog = requestLog
    services.append(requestLog)
    let router = buildRouter(runtime: runtime, dependencies: dependencies)
    if dependencies.runBackgroundServices {
        let keysAndRefresh: [any Service] = [runtime.rewrapService(), runtime.keyRotationScheduler(), outbound.refreshService, outbound.probeService]
        services.append(contentsOf: keysAndRefresh)
        services.append(outbound.webhookDelivery)
        services.append(outbound.rateBudgetRefill)
        services.append(runtime.syncService(outbound: outbound, transport: dependencies.transport ?? UnavailableTransport()))
        if let notices = runtime.reauthNoticeService() { services.append(notices) }
        services.append(RequestLogPurgeService(runtime: runtime))
        services.append(AuditRetentionService(runtime: runtime))
        // Incident revocation runs cut short (a crash, SIGKILL) are resumed by themselves, at start and once per lease.
        services.append(IncidentResumeService(incidents: runtime.incidentResponse(outbound: outbound), logger: runtime.logger))
    }
    let configuration = runtime.configuration
    if let tls = dependencies.tls { services.append(TLSReloadService(certificates: tls)) }
    return Application(
        router: router,
        server: .latchkey(idleTimeout: TimeAmount(configuration.idleTimeout), tls: dependencies.tls),
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
    router.add(middleware: ClientAddressMiddleware(proxies: runtime.configuration.trustedProxies))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestTracingMiddleware())
    router.add(middleware: RequestLogMiddleware())
    // The console's sessions: read by the sign-in groups below, and by error pages to keep the navigation.
    let webSessions = WebSessions(
        store: runtime.webSessionStore,
        keyring: runtime.keyring,
        clock: runtime.clock,
        idleLifetime: runtime.configuration.sessionIdle,
        absoluteLifetime: runtime.configuration.sessionLifetime
    )
    if runtime.configuration.secureCookies { router.add(middleware: StrictTransportSecurityMiddleware()) }
    router.add(middleware: ErrorMiddleware(chrome: { request in await PageChrome.of(request, sessions: webSessions) }))
    OpsController(database: runtime.database, vault: runtime.vault, registry: dependencies.registry).addRoutes(to: router)
    ConsoleScript.addRoutes(to: router)
    SetupController(tenants: runtime.tenants, tenant: runtime.defaultTenant, publicURL: runtime.configuration.effectivePublicURL)
        .addRoutes(to: router)
    let configuration = runtime.configuration
    let transport = dependencies.transport ?? UnavailableTransport()
    let outbound = dependencies.outbound ?? runtime.outboundServices(transport: transport)
    let oauth = outbound.oauth
    let rules = IntegrationRules(catalog: runtime.catalog, allowPrivateNetwork: configuration.allowPrivateNetwork) { url in
        do {
            return try await oauth.discover(discoveryURL: url).settings
        } catch {
            throw LatchkeyError.invalidRequest(ConnectService.describe(error, name: url.host ?? "the provider"))
        }
    }
    // One authenticator for both kinds of key; each route group's context decides which callers it takes.
    let apps = AppService(vault: runtime.vault, audit: runtime.audit, logger: runtime.logger)
    let keyed = router.group("api/v1").add(middleware: APIKeyAuthenticator(tenants: runtime.tenants, apps: apps))
    let api = keyed.group(context: AdminContext.self)
    let callers = keyed.group(context: CallerContext.self)
    let recorder = dependencies.routeRecorder
    let connect = outbound.connect
    let revokeAndDelete: AppService.RevokeAndDelete = { credential, actor in try await connect.revokeAndDelete(credential, actor: actor) }
    AuditController(audit: runtime.audit).addRoutes(to: api, recorder: recorder)
    // The OAuth authorization server of `/mcp` (its routes are added with the console's, below); a `client_id` that
    // is a URL is read from its Client ID Metadata Document, fetched under the outbound policy.
    let documents =
        dependencies.clientMetadataDocuments
        ?? ClientMetadataDocumentFetcher(
            transport: transport,
            policy: OutboundPolicy(allowPrivateNetwork: configuration.allowPrivateNetwork),
            clock: runtime.clock,
            logger: runtime.logger
        )
    let authServer = runtime.authorizationServer(documents: documents)
    OAuthClientsController(server: authServer, maxBodySize: configuration.maxBodySize).addRoutes(to: api, recorder: recorder)
    let requestLog = dependencies.requestLog ?? RequestLogWriter(database: runtime.database, logger: runtime.logger)
    // A group of its own, so that only the logged routes get the recording middleware.
    let loggedTokens = callers.group()
        .add(
            middleware: RequestRecordingMiddleware<CallerContext>(writer: requestLog, kind: .token, clock: runtime.clock) { caller in
                (caller.tenantID, caller.app?.id)
            }
        )
    TokenController(resolver: outbound.resolver, maxBodySize: configuration.maxBodySize)
        .addRoutes(to: loggedTokens, recorder: recorder)
    let loggedProxy = callers.group()
        .add(
            middleware: RequestRecordingMiddleware<CallerContext>(writer: requestLog, kind: .proxy, clock: runtime.clock) { caller in
                (caller.tenantID, caller.app?.id)
            }
        )
    // One relay for the proxy route and tool calls: the same limits, rate limits and circuit.
    let proxy = ProxyService(
        resolver: outbound.resolver,
        providers: ProviderResolver(catalog: runtime.catalog, integrations: runtime.integrations),
        transport: transport,
        limits: .init(
            maxUploadBytes: configuration.proxyMaxUploadBytes,
            maxDownloadBytes: configuration.proxyMaxDownloadBytes,
            maxRetainedUploadBytes: configuration.maxBodySize
        ),
        gate: outbound.gate
    )
    ProxyController(proxy: proxy, identities: AppIdentities(runtime: runtime)).addRoutes(to: loggedProxy, recorder: recorder)
    AppsController(apps: apps, maxBodySize: configuration.maxBodySize, revokeAndDelete: revokeAndDelete).addRoutes(to: api, recorder: recorder)
    let records = PersonRecords(database: runtime.database, audit: runtime.audit)
    EndUsersController(apps: apps, directory: runtime.tenants.directory, revokeAndDelete: revokeAndDelete, records: records, clock: runtime.clock)
        .addRoutes(to: callers, recorder: recorder)
    ToolsController(integrations: runtime.integrations, catalog: runtime.catalog, resolver: outbound.resolver)
        .addRoutes(to: callers, recorder: recorder)
    let tools = ToolInvoker(
        integrations: runtime.integrations,
        catalog: runtime.catalog,
        resolver: outbound.resolver,
        proxy: proxy,
        sync: runtime.syncStore,
        publicURL: configuration.effectivePublicURL
    )
    let loggedTools = callers.group()
        .add(
            middleware: RequestRecordingMiddleware<CallerContext>(writer: requestLog, kind: .tool, clock: runtime.clock) { caller in
                (caller.tenantID, caller.app?.id)
            }
        )
    ToolInvokeController(invoker: tools, maxBodySize: configuration.maxBodySize, identities: AppIdentities(runtime: runtime))
        .addRoutes(to: loggedTools, recorder: recorder)
    // MCP (`/mcp`): the catalog's tools for OAuth clients, run as the person who granted them.
    MCPController(
        server: MCPServer(
            info: .init(name: "latchkey", title: "Latchkey", version: "0.1.0"),
            tools: GatewayToolSource(
                integrations: runtime.integrations,
                catalog: runtime.catalog,
                invoker: tools,
                requestLog: requestLog,
                clock: runtime.clock
            ),
            logger: runtime.logger
        ),
        sessions: MCPSessions(key: runtime.keyring.hmacKey(purpose: "mcp-session"), clock: runtime.clock),
        gate: MCPBearerGate(
            verifier: dependencies.mcpTokenVerifier ?? AuthServerTokenVerifier(server: authServer, resource: authServer.settings.resource),
            publicURL: configuration.effectivePublicURL,
            logger: runtime.logger
        ),
        origins: MCPOriginPolicy(publicURL: configuration.effectivePublicURL, listenHost: configuration.host),
        maxBodySize: configuration.maxBodySize
    ).addRoutes(to: router)
    RequestsController(writer: requestLog, repository: RequestLogRepository(database: runtime.database))
        .addRoutes(to: api, recorder: recorder)
    ConnectionsController(
        directory: runtime.tenants.directory,
        vault: runtime.vault,
        integrations: runtime.integrations,
        health: outbound.health,
        database: runtime.database,
        sync: runtime.syncStore,
        catalog: runtime.catalog,
        clock: runtime.clock,
        maxBodySize: configuration.maxBodySize
    ).addRoutes(to: api, recorder: recorder)
    let rateLimits = ConnectionRateLimits(
        limits: ConnectionRateLimitRepository(database: runtime.database),
        integrations: runtime.integrations,
        catalog: runtime.catalog,
        gate: outbound.gate,
        audit: runtime.audit,
        clock: runtime.clock
    )
    ConnectionUsageController(directory: runtime.tenants.directory, rateLimits: rateLimits, maxBodySize: configuration.maxBodySize)
        .addRoutes(to: api, recorder: recorder)
    ConnectionSyncController(
        directory: runtime.tenants.directory,
        integrations: runtime.integrations,
        catalog: runtime.catalog,
        store: runtime.syncStore,
        credentials: CredentialRepository(database: runtime.database),
        audit: runtime.audit,
        clock: runtime.clock,
        maxBodySize: configuration.maxBodySize
    ).addRoutes(to: api, recorder: recorder)
    WebhooksController(outbox: runtime.webhooks, allowPrivateNetwork: configuration.allowPrivateNetwork, maxBodySize: configuration.maxBodySize)
        .addRoutes(to: api, recorder: recorder)
    UsersController(runtime: runtime, apps: apps, revokeAndDelete: revokeAndDelete).addRoutes(to: api, recorder: recorder)
    let appConnect = AppConnectSessions(
        connect: connect,
        store: AppConnectSessionRepository(database: runtime.database),
        apps: apps,
        audit: runtime.audit,
        publicURL: configuration.effectivePublicURL
    )
    // The connect API of apps is logged too (kind `connect`): the app, its end user, the Connection and integration.
    let appKeyed = keyed.group(context: AppKeyContext.self)
        .add(
            middleware: RequestRecordingMiddleware<AppKeyContext>(writer: requestLog, kind: .connect, clock: runtime.clock) { caller in
                (caller.tenantID, caller.app.id)
            }
        )
    ConnectSessionsController(sessions: appConnect, maxBodySize: configuration.maxBodySize).addRoutes(to: appKeyed, recorder: recorder)
    ConnectUsersController(
        sessions: appConnect,
        apps: apps,
        vault: runtime.vault,
        health: outbound.health,
        maxBodySize: configuration.maxBodySize,
        revokeAndDelete: revokeAndDelete,
        sync: ConnectUserData(catalog: runtime.catalog, integrations: runtime.integrations, store: runtime.syncStore)
    ).addRoutes(to: appKeyed, recorder: recorder)
    IntegrationsController(
        store: runtime.integrations,
        rules: rules,
        catalog: runtime.catalog,
        callbackURL: configuration.callbackURL,
        maxBodySize: configuration.maxBodySize
    ).addRoutes(to: api, recorder: recorder)

    // The web console: cookies, sign-in, the Connection Center and the provider callback.
    let webSession = WebSessionMiddleware(sessions: webSessions, secureCookies: configuration.secureCookies)
    let web = router.group().add(middleware: webSession)
    // The start page leads somewhere: the admin overview for an administrator, the Connection Center for a member.
    web.get("/") { _, context in
        if let session = context.webSession { return WebResponse.redirect(to: session.user.seesAdministration ? "/admin" : "/connections") }
        return HTMLPage.render(
            "message",
            title: "Latchkey",
            context: [
                "heading": "Latchkey is running",
                "message":
                    "This server keeps the accounts you connect and lets your tools and agents use them as you. Sign in to the console to connect yours; the API lives under /api/v1 and is described at /openapi.json.",
                "link": ["id": "sign-in", "href": "/login", "label": "Sign in"],
                "home": false,
            ]
        )
    }
    CredentialsController(vault: runtime.vault, maxBodySize: configuration.maxBodySize, revokeAndDelete: revokeAndDelete)
        .addRoutes(to: api, recorder: recorder)
    var center = ConnectionCenterController(connect: connect, sessions: webSessions)
    center.appSessions = appConnect
    center.secureCookies = configuration.secureCookies
    center.addCallback(to: web)
    HostedConnectController(sessions: appConnect, connect: connect).addRoutes(to: web)
    // A group of its own: adding middleware to a group changes that group for every route added later.
    let signedIn = router.group().add(middleware: webSession).add(middleware: RequireSignInMiddleware()).group(context: SignedInContext.self)
        .add(middleware: CSRFMiddleware { context in webSessions.csrfToken(for: context.sessionToken) })
    let admin = signedIn.group(context: AdminPageContext.self)
    center.addRoutes(to: signedIn)
    ConnectionToolsController(connect: connect, invoker: tools, sessions: webSessions).addRoutes(to: signedIn)
    AdminPagesController(
        store: runtime.integrations,
        catalog: runtime.catalog,
        tenants: runtime.tenants,
        sessions: webSessions,
        health: outbound.health,
        sync: runtime.syncStore,
        apps: AppRepository(database: runtime.database),
        audit: runtime.audit,
        clock: runtime.clock
    ).addRoutes(to: admin)
    AdminIntegrationsPagesController(
        store: runtime.integrations,
        rules: rules,
        catalog: runtime.catalog,
        sessions: webSessions,
        callbackURL: configuration.callbackURL,
        requestLog: RequestLogRepository(database: runtime.database),
        clock: runtime.clock
    ).addRoutes(to: admin)
    AppsPagesController(
        apps: apps,
        connect: connect,
        vault: runtime.vault,
        health: outbound.health,
        sessions: webSessions,
        database: runtime.database,
        clock: runtime.clock,
        publicURL: configuration.effectivePublicURL,
        revokeAndDelete: revokeAndDelete,
        rateLimits: rateLimits
    ).addRoutes(to: admin)
    AdminKeysPagesController(tenants: runtime.tenants, sessions: webSessions).addRoutes(to: admin)
    let erasure = PersonErasurePages(apps: apps, records: records, revokeAndDelete: revokeAndDelete, clock: runtime.clock)
    AdminUsersPagesController(tenants: runtime.tenants, sessions: webSessions, erasure: erasure).addRoutes(to: admin)
    AdminOverviewPagesController(
        overview: AdminOverviewRepository(database: runtime.database),
        integrations: runtime.integrations,
        catalog: runtime.catalog,
        sessions: webSessions,
        clock: runtime.clock,
        keyRotation: runtime.keyRotationScheduler(),
        credentials: { user in try await connect.credentials(of: user, integrationKey: nil) }
    ).addRoutes(to: admin)
    AdminWebhooksPagesController(outbox: runtime.webhooks, allowPrivateNetwork: configuration.allowPrivateNetwork, sessions: webSessions)
        .addRoutes(to: admin)
    AdminAuditPagesController(audit: runtime.audit, users: runtime.tenants.users, sessions: webSessions).addRoutes(to: admin)
    // The OAuth authorization server of `/mcp`: discovery, registration, consent, tokens.
    OAuthMetadataController(server: authServer).addRoutes(to: router)
    OAuthEndpointsController(
        server: authServer,
        registerLimit: OAuthRateLimiter(limit: 20, clock: runtime.clock),
        tokenLimit: OAuthRateLimiter(limit: configuration.oauthTokenRate, clock: runtime.clock)
    ).addRoutes(
        to: router,
        introspection: router.group("oauth").add(middleware: APIKeyAuthenticator(tenants: runtime.tenants, apps: apps)).group(
            context: CallerContext.self
        )
    )
    let authorize = OAuthAuthorizeController(
        server: authServer,
        connect: connect,
        sessions: webSessions,
        limit: OAuthRateLimiter(limit: 120, clock: runtime.clock)
    )
    authorize.addRoutes(web: web, signedIn: signedIn)
    OAuthAppsController(server: authServer, authorize: authorize, sessions: webSessions).addRoutes(to: signedIn)
    addSignInRoutes(
        runtime: runtime,
        sessions: webSessions,
        groups: IdentityRouteGroups(
            web: web,
            signedIn: signedIn,
            admin: admin,
            api: api,
            appKeyed: appKeyed,
            recorder: recorder,
            authorizationServer: authServer
        ),
        transport: transport
    )
    addIncidentRoutes(runtime: runtime, outbound: outbound, apps: apps, sessions: webSessions, api: api, admin: admin, recorder: recorder)
    dependencies.consoleRoutes?(signedIn, admin)
    if let registration = runtime.sandbox {
        SandboxProvider(registration: registration, sessions: webSessions, clock: runtime.clock).addRoutes(to: web)
    }
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
    return router
}

/// Used only when a router is built without any transport: every outbound call fails as unreachable.
struct UnavailableTransport: HTTPTransport {
    func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        throw OutboundError.unreachable(host: request.url.host ?? "the provider")
    }
}
