public import Hummingbird
public import LatchkeyAuthServer
import LatchkeyBootstrap
public import LatchkeyMCP
public import LatchkeyOAuthClient
import LatchkeyStorage
public import Prometheus

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
    /// How outbound calls to providers are made; AsyncHTTPClient (a service of the application) when nil. Tests
    /// pass a fake network.
    public var transport: (any HTTPTransport)?
    /// Adds routes to the console's groups (signed in; administrators), after the built-in ones. Whatever it adds
    /// gets the groups' checks: sign-in, CSRF on every form post, administrator only.
    public var consoleRoutes: (@Sendable (RouterGroup<SignedInContext>, RouterGroup<AdminPageContext>) -> Void)?
    /// Where Client ID Metadata Documents come from; fetched over the outbound transport and policy when nil.
    public var clientMetadataDocuments: (any ClientMetadataDocumentSource)?
    /// Checks the access tokens of `/mcp`; the authorization server's own check when nil (tests pass a fake).
    public var mcpTokenVerifier: (any MCPTokenVerifier)?
    /// The outbound services; made from the runtime and transport when nil.
    var outbound: OutboundServices?
    /// The request log's writer (one per process); made from the runtime when nil.
    var requestLog: RequestLogWriter?
    /// Serve HTTPS with this certificate and key, reloaded on SIGHUP; plain HTTP when nil.
    public var tls: TLSCertificates?

    public init(
        registry: PrometheusCollectorRegistry? = nil,
        runBackgroundServices: Bool = true,
        ownsDatabase: Bool = true,
        routeRecorder: RouteRecorder? = nil,
        transport: (any HTTPTransport)? = nil
    ) {
        self.registry = registry
        self.runBackgroundServices = runBackgroundServices
        self.ownsDatabase = ownsDatabase
        self.routeRecorder = routeRecorder
        self.transport = transport
    }
}
