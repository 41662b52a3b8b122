import Foundation
import LatchkeyBootstrap
import LatchkeyCore
import LatchkeyStorage
import LatchkeyTesting
import Logging
import SQLKit
import Testing

/// The master key as an AWS KMS data key, against a fake KMS that checks every SigV4 signature: only the ciphertext
/// blob is stored, every start decrypts it, `rotate-master` asks for a new one, and an unreachable KMS is named
/// plainly and changes nothing.
@Suite("AWS KMS key provider")
struct KMSKeyProviderTests {
    static let keyID = "arn:aws:kms:eu-west-1:111122223333:key/test-key"
    static let secret = "kms-secret-canary-8d1f"
    static let token = "kms-token-canary-5c2a"
    static let credentials = AWSCredentials(accessKeyID: "AKIDKMSTEST", secretAccessKey: secret, sessionToken: token)

    static func settings(endpoint: String = "https://kms.eu-west-1.amazonaws.com/") -> KMSSettings {
        try! KMSSettings.fromEnvironment([
            "LATCHKEY_KMS_KEY_ID": keyID, "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDKMSTEST",
            "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token, "LATCHKEY_KMS_ENDPOINT": endpoint,
        ])!
    }

    /// Starts on a fresh database of `kind` with the master key from `kms`, runs `body`, cleans up.
    static func withKMSRuntime(
        _ kind: TestDatabases.Kind,
        kms: FakeKMS,
        logs: LogCapture,
        _ body: (LatchkeyRuntime, ServerConfiguration) async throws -> Void
    ) async throws {
        let configuration = try TestDatabases.configuration(kind, masterKey: nil)
        let provider = KMSKeyProvider(settings: settings(), transport: kms)
        let runtime = try await LatchkeyRuntime.bootstrap(configuration: configuration, keyProvider: provider, logger: logs.logger())
        do {
            try await body(runtime, configuration)
            await TestDatabases.cleanUp(runtime)
        } catch {
            await TestDatabases.cleanUp(runtime)
            throw error
        }
    }

    static func storedBlob(_ runtime: LatchkeyRuntime) async throws -> String? {
        try await runtime.database.read { db in
            try await db.raw("SELECT value FROM settings WHERE key = 'wrapped_master_key'").first()?.decode(column: "value", as: String.self)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func firstStartStoresOnlyTheBlobAndEveryStartDecryptsIt(kind: TestDatabases.Kind) async throws {
        let kms = FakeKMS(keyIDs: [Self.keyID], credentials: Self.credentials, region: "eu-west-1")
        let logs = LogCapture()
        try await Self.withKMSRuntime(kind, kms: kms, logs: logs) { runtime, configuration in
            #expect(runtime.createdMasterKey)
            #expect(await kms.operations == ["TrentService.GenerateDataKey"])
            #expect(await kms.badSignatures == 0)
            let blob = try #require(try await Self.storedBlob(runtime))
            #expect(Data(base64Encoded: blob)?.count == 64)
            #expect(!FileManager.default.fileExists(atPath: configuration.dataDirectory + "/master.key"))
            let sealed = try runtime.keyring.seal(
                Data("stored under KMS".utf8),
                context: EncryptionContext(tenantID: "t", ownerID: "o", recordID: "1", field: "f")
            )

            // A restart: Decrypt, the same key.
            let restarted = KeyManager(
                database: runtime.database,
                provider: KMSKeyProvider(settings: Self.settings(), transport: kms),
                clock: runtime.clock,
                logger: logs.logger()
            )
            let opened = try await restarted.open()
            #expect(!opened.createdMasterKey)
            #expect(await kms.operations == ["TrentService.GenerateDataKey", "TrentService.Decrypt"])
            #expect(
                try opened.keyring.open(sealed, context: EncryptionContext(tenantID: "t", ownerID: "o", recordID: "1", field: "f"))
                    == Data("stored under KMS".utf8)
            )

            // Every request carried the session token and a signature the fake verified; none in the logs.
            #expect(await kms.securityTokens == [Self.token, Self.token])
            let authorizations = await kms.authorizations
            #expect(authorizations.count == 2 && authorizations.allSatisfy { $0.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDKMSTEST/") })
            let signatures = authorizations.compactMap { $0.components(separatedBy: "Signature=").last }
            for canary in [Self.secret, Self.token, blob] + signatures {
                #expect(!logs.text.contains(canary))
            }
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func anUnreachableKMSAtStartIsRefusedNamingTheEndpoint(kind: TestDatabases.Kind) async throws {
        let kms = FakeKMS(keyIDs: [Self.keyID], credentials: Self.credentials, region: "eu-west-1")
        try await Self.withKMSRuntime(kind, kms: kms, logs: LogCapture()) { runtime, configuration in
            await kms.setUnreachable(true)
            let restarted = KeyManager(
                database: runtime.database,
                provider: KMSKeyProvider(settings: Self.settings(), transport: kms),
                clock: runtime.clock,
                logger: runtime.logger
            )
            let error = await #expect(throws: KMSError.self) { try await restarted.open() }
            let message = try #require(error?.description)
            #expect(message.contains("https://kms.eu-west-1.amazonaws.com") && message.contains("could not be reached for Decrypt"))
            #expect(message.contains("AWS_REGION") && message.contains("LATCHKEY_KMS_ENDPOINT"))
            for canary in [Self.secret, Self.token] { #expect(!message.contains(canary)) }
        }
    }

    /// The real transport, to a port nothing listens on: the start is refused with the endpoint named.
    @Test func aClosedPortIsReportedAsUnreachable() async throws {
        let provider = KMSKeyProvider(settings: Self.settings(endpoint: "http://127.0.0.1:1/"))
        let error = await #expect(throws: KMSError.self) { try await provider.generateWrappedMasterKey() }
        let message = try #require(error?.description)
        #expect(message.contains("AWS KMS at http://127.0.0.1:1 could not be reached for GenerateDataKey"))
        for canary in [Self.secret, Self.token] { #expect(!message.contains(canary)) }
    }

    @Test func aRefusalNamesTheErrorAndNoSecret() async throws {
        let kms = FakeKMS(keyIDs: ["another-key"], credentials: Self.credentials, region: "eu-west-1")
        let provider = KMSKeyProvider(settings: Self.settings(), transport: kms)
        let error = await #expect(throws: KMSError.self) { try await provider.generateWrappedMasterKey() }
        let message = try #require(error?.description)
        #expect(message.contains("refused GenerateDataKey (HTTP 400, NotFoundException") && message.contains("LATCHKEY_KMS_KEY_ID"))
        for canary in [Self.secret, Self.token] { #expect(!message.contains(canary)) }

        let wrongSecret = FakeKMS(
            keyIDs: [Self.keyID],
            credentials: AWSCredentials(accessKeyID: "AKIDKMSTEST", secretAccessKey: "another-secret"),
            region: "eu-west-1"
        )
        let refused = await #expect(throws: KMSError.self) {
            try await KMSKeyProvider(settings: Self.settings(), transport: wrongSecret).generateWrappedMasterKey()
        }
        #expect(refused?.description.contains("InvalidSignatureException") == true)
        #expect(await wrongSecret.badSignatures == 1)
    }

    @Test(arguments: TestDatabases.kinds)
    func rotateMasterAsksForANewKeyAndAnUnreachableKMSChangesNothingUntilTheNextRun(kind: TestDatabases.Kind) async throws {
        let kms = FakeKMS(keyIDs: [Self.keyID], credentials: Self.credentials, region: "eu-west-1")
        try await Self.withKMSRuntime(kind, kms: kms, logs: LogCapture()) { runtime, _ in
            let context = EncryptionContext(tenantID: "t", ownerID: "o", recordID: "1", field: "f")
            let sealed = try runtime.keyring.seal(Data("kept".utf8), context: context)
            let firstBlob = try await Self.storedBlob(runtime)
            let firstCheck = try await runtime.keyManager.repository.setting("key_check_value")
            #expect(runtime.keyManager.usesKeyService)

            // KMS is down: the rotation stops before anything is written.
            await kms.setUnreachable(true)
            await #expect(throws: KMSError.self) { try await runtime.keyManager.rotateMasterWithKeyService(runtime.keyring) }
            #expect(try await Self.storedBlob(runtime) == firstBlob)
            #expect(try await runtime.keyManager.repository.setting("key_check_value") == firstCheck)

            // The next run goes through: a new blob and check value, and a restart opens the same data keys.
            await kms.setUnreachable(false)
            try await runtime.keyManager.rotateMasterWithKeyService(runtime.keyring)
            #expect(try await Self.storedBlob(runtime) != firstBlob)
            #expect(try await runtime.keyManager.repository.setting("key_check_value") != firstCheck)
            let reopened = try await KeyManager(
                database: runtime.database,
                provider: KMSKeyProvider(settings: Self.settings(), transport: kms),
                clock: runtime.clock,
                logger: runtime.logger
            ).open()
            #expect(try reopened.keyring.open(sealed, context: context) == Data("kept".utf8))
        }
    }

    @Test func settingsNameWhatIsMissing() throws {
        #expect(try KMSSettings.fromEnvironment([:]) == nil)
        #expect(throws: ConfigurationError.self) { try KMSSettings.fromEnvironment(["LATCHKEY_KMS_KEY_ID": "k", "AWS_ACCESS_KEY_ID": "a"]) }
        let settings = try #require(
            try KMSSettings.fromEnvironment([
                "LATCHKEY_KMS_KEY_ID": "k", "AWS_DEFAULT_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
            ])
        )
        #expect(settings.endpoint.absoluteString == "https://kms.us-east-2.amazonaws.com/")
        var configuration = ServerConfiguration()
        configuration.kms = settings
        configuration.masterKey = MasterKey.generate().base64
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
