import Foundation
public import Hummingbird
public import HummingbirdTesting
public import LatchkeyBootstrap
public import LatchkeyCore
public import LatchkeyHTTP
public import LatchkeyMCP
public import LatchkeyOAuthClient
import LatchkeyStorage
public import LatchkeyTesting
import Logging
import Metrics
public import Prometheus

/// Metrics for the test process: swift-metrics can be bootstrapped once per process.
public enum TestMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        let factory = LatchkeyMetricsFactory(registry: registry)
        factory.exportCatalogue()
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    public static var text: String { registry.emitToString() }
}

/// What an HTTP test gets: the running runtime, an admin key for its default tenant, every log line, and the
/// routes the router registered.
public struct TestFixture: Sendable {
    public let runtime: LatchkeyRuntime
    public let adminKey: String
    public let logs: LogCapture
    public let routes: RouteRecorder

    public var tenantID: String { runtime.defaultTenant.id }
    public var bearer: String { "Bearer \(adminKey)" }
}

public enum TestApp {
    /// Builds the real application on a fresh database of `kind` and runs `body` with a client. With `outboundPolicy`,
    /// the transport (the fake network by default) sits behind that policy, as the real one does, and its refusals
    /// are logged to the fixture's logs.
    public static func with<T: Sendable>(
        _ kind: TestDatabases.Kind,
        framework: TestingSetup = .router,
        clock: any LatchkeyClock = TestClock(),
        transport: (any HTTPTransport)? = nil,
        outboundPolicy: OutboundPolicy? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        consoleRoutes: (@Sendable (RouterGroup<SignedInContext>, RouterGroup<AdminPageContext>) -> Void)? = nil,
        mcpTokenVerifier: (any MCPTokenVerifier)? = nil,
        _ body: @Sendable (any TestClientProtocol, TestFixture) async throws -> T
    ) async throws -> T {
        let logs = LogCapture()
        let recorder = RouteRecorder()
        // A live server's test client keeps one connection and does not reconnect: the idle timeout must outlast any
        // pause between two requests of a test on a busy machine (a test of the timeout itself sets its own).
        let configureServer: (inout ServerConfiguration) -> Void = { configuration in
            configuration.idleTimeout = .seconds(600)
            configure(&configuration)
        }
        return try await TestDatabases.withRuntime(kind, clock: clock, logger: logs.logger(), configure: configureServer) { runtime in
            let (_, adminKey) = try await runtime.tenants.createAdminKey(tenantID: runtime.defaultTenant.id, name: "test", actor: .cli)
            let fixture = TestFixture(runtime: runtime, adminKey: adminKey, logs: logs, routes: recorder)
            let network: any HTTPTransport = transport ?? FakeNetwork()
            let outbound = outboundPolicy.map { PolicyCheckedTransport(policy: $0, logger: logs.logger(), wrapping: network) }
            var dependencies = ApplicationDependencies(
                registry: TestMetrics.registry,
                runBackgroundServices: false,
                ownsDatabase: false,
                routeRecorder: recorder,
                transport: outbound ?? network
            )
            dependencies.consoleRoutes = consoleRoutes
            dependencies.mcpTokenVerifier = mcpTokenVerifier
            let app = buildApplication(runtime: runtime, dependencies: dependencies)
            return try await app.test(framework) { client in try await body(client, fixture) }
        }
    }
}
