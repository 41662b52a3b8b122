import HummingbirdCore
import HummingbirdTLS
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Reloads the TLS certificate and key from their files on SIGHUP, without closing the listener.
struct TLSReloadService: Service {
    let certificates: TLSCertificates

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            certificates.reload()
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1, over TLS with the current certificate when there is one.
    static func latchkey(idleTimeout: TimeAmount, tls: TLSCertificates?) -> HTTPServerBuilder {
        let http1 = HTTP1Channel.Configuration(idleTimeout: idleTimeout)
        guard let tls else { return .http1(configuration: http1) }
        let configuration = tls.serverConfiguration
        return HTTPServerBuilder { responder in
            try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), tlsConfiguration: configuration)
        }
    }
}
