/// The certificate and private key `latchkey serve` answers HTTPS with (`--tls-cert`/`--tls-key`,
/// `LATCHKEY_TLS_CERT`/`LATCHKEY_TLS_KEY`): PEM files, read at start and again on SIGHUP.
public struct TLSFiles: Sendable, Equatable {
    /// The certificate chain, leaf first (PEM).
    public var certificatePath: String
    /// The leaf certificate's private key (PEM, unencrypted).
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// Both files or neither: one without the other is a mistake worth naming.
    public static func from(certificate: String?, key: String?, names: (certificate: String, key: String)) throws -> TLSFiles? {
        let certificate = certificate.flatMap { $0.isEmpty ? nil : $0 }
        let key = key.flatMap { $0.isEmpty ? nil : $0 }
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return TLSFiles(certificatePath: certificate, keyPath: key)
        case (nil, _): throw ConfigurationError("\(names.key) needs \(names.certificate) too: give both files to serve HTTPS")
        case (_, nil): throw ConfigurationError("\(names.certificate) needs \(names.key) too: give both files to serve HTTPS")
        }
    }
}
