import Crypto
import Foundation
import LatchkeyCore
import Testing

@Suite("Envelope encryption")
struct KeyringTests {
    let master = MasterKey.generate()
    let context = EncryptionContext(tenantID: "t1", ownerID: "u1", recordID: "r1", field: "credentials.payload")

    func keyring(versions: [Int] = [1], active: Int = 1, master: MasterKey? = nil) throws -> Keyring {
        let master = master ?? self.master
        var keys = try versions.map {
            try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: $0, master: master, createdAt: Date())
        }
        keys.append(try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .hmac, version: 1, master: master, createdAt: Date()))
        return try Keyring(master: master, keys: keys, activeVersion: active)
    }

    @Test func sealedSecretOpensInItsOwnContext() throws {
        let keyring = try keyring()
        let plaintext = Data("gho_secret-token".utf8)
        let sealed = try keyring.seal(plaintext, context: context)
        #expect(try keyring.open(sealed, context: context) == plaintext)
        #expect(try Keyring.keyVersion(of: sealed) == 1)
        #expect(sealed.range(of: plaintext) == nil)
    }

    @Test func everySealUsesAFreshNonce() throws {
        let keyring = try keyring()
        let a = try keyring.seal(Data("same".utf8), context: context)
        let b = try keyring.seal(Data("same".utf8), context: context)
        #expect(a != b)
        #expect(a[5..<17] != b[5..<17])
    }

    @Test(arguments: [0, 5, 12, 20, -1])
    func aFlippedBitAnywhereIsRefused(position: Int) throws {
        let keyring = try keyring()
        var sealed = try keyring.seal(Data(repeating: 7, count: 64), context: context)
        // 0: format byte, 5: nonce, 12: nonce, 20: ciphertext, -1: tag.
        let index = position >= 0 ? sealed.startIndex + position : sealed.endIndex - 1
        sealed[index] ^= 0x01
        #expect(throws: (any Error).self) { try keyring.open(sealed, context: context) }
    }

    @Test func aFlippedKeyVersionIsRefusedNotFallenBackFrom() throws {
        let keyring = try keyring(versions: [1, 2], active: 1)
        var sealed = try keyring.seal(Data("x".utf8), context: context)
        sealed[4] = 2  // claims version 2, which exists
        #expect(throws: CiphertextError.authenticationFailed) { try keyring.open(sealed, context: context) }
        sealed[4] = 9  // a version that does not exist
        #expect(throws: KeyError.unknownKeyVersion(9)) { try keyring.open(sealed, context: context) }
    }

    @Test(arguments: [
        EncryptionContext(tenantID: "t2", ownerID: "u1", recordID: "r1", field: "credentials.payload"),
        EncryptionContext(tenantID: "t1", ownerID: "u2", recordID: "r1", field: "credentials.payload"),
        EncryptionContext(tenantID: "t1", ownerID: "u1", recordID: "r2", field: "credentials.payload"),
        EncryptionContext(tenantID: "t1", ownerID: "u1", recordID: "r1", field: "integrations.client_secret"),
    ])
    func aCiphertextMovedElsewhereFails(other: EncryptionContext) throws {
        let keyring = try keyring()
        let sealed = try keyring.seal(Data("secret".utf8), context: context)
        #expect(throws: CiphertextError.authenticationFailed) { try keyring.open(sealed, context: other) }
    }

    @Test func truncatedOrForeignDataIsMalformed() throws {
        let keyring = try keyring()
        #expect(throws: CiphertextError.malformed) { try keyring.open(Data([1, 0, 0]), context: context) }
        #expect(throws: CiphertextError.malformed) { try keyring.open(Data(repeating: 9, count: 64), context: context) }
    }

    @Test func oldVersionsStayReadableAfterRotationAndUnknownOnesAreErrors() throws {
        let k1 = try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: 1, master: master, createdAt: Date())
        let k2 = try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: 2, master: master, createdAt: Date())
        let hmac = try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .hmac, version: 1, master: master, createdAt: Date())
        let keyring = try Keyring(master: master, keys: [k1, hmac], activeVersion: 1)
        let old = try keyring.seal(Data("before".utf8), context: context)

        try keyring.reload(keys: [k1, k2, hmac], activeVersion: 2)
        #expect(keyring.activeVersion == 2)
        #expect(try keyring.open(old, context: context) == Data("before".utf8))
        let new = try keyring.seal(Data("after".utf8), context: context)
        #expect(try Keyring.keyVersion(of: new) == 2)

        let withoutV1 = try Keyring(master: master, keys: [k2, hmac], activeVersion: 2)
        #expect(throws: KeyError.unknownKeyVersion(1)) { try withoutV1.open(old, context: context) }
        #expect(throws: KeyError.unknownKeyVersion(7)) { try withoutV1.seal(Data("x".utf8), context: context, version: 7) }
        #expect(throws: KeyError.unknownKeyVersion(3)) { try Keyring(master: master, keys: [k1, k2, hmac], activeVersion: 3) }
    }

    @Test func aWrappedKeyOnlyOpensUnderItsMasterAndPlace() throws {
        let key = try WrappedKey.wrap(SymmetricKey(size: .bits256), purpose: .data, version: 1, master: master, createdAt: Date())
        #expect(throws: KeyError.keyringCorrupt(version: 1)) { try key.unwrap(with: MasterKey.generate()) }
        var moved = key
        moved.version = 2
        #expect(throws: KeyError.keyringCorrupt(version: 2)) { try moved.unwrap(with: master) }
        var flipped = key
        flipped.wrapped[flipped.wrapped.startIndex + 3] ^= 0x80
        #expect(throws: KeyError.keyringCorrupt(version: 1)) { try flipped.unwrap(with: master) }
    }

    @Test func hmacKeysAreStableAndSeparatedByPurpose() throws {
        let keyring = try keyring()
        #expect(keyring.mac("lk_live_x", purpose: "api-key-index") == keyring.mac("lk_live_x", purpose: "api-key-index"))
        #expect(keyring.mac("lk_live_x", purpose: "api-key-index") != keyring.mac("lk_live_x", purpose: "audit-fingerprint"))
        let fingerprint = keyring.fingerprint("gho_secret")
        #expect(fingerprint.hasPrefix("fp_") && !fingerprint.contains("gho_secret"))
        #expect(try self.keyring().fingerprint("gho_secret") != fingerprint)  // another keyring, another HMAC root
    }

    @Test func macsStayTheHMACOfTheDerivedKeySoStoredIndexesKeepMatching() throws {
        let keyring = try keyring()
        for (value, purpose) in [("lk_live_x", "api-key-index"), ("", "audit-fingerprint"), ("é🔑\u{0}", "api-key-index")] {
            let expected = HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: keyring.hmacKey(purpose: purpose))
            #expect(keyring.mac(value, purpose: purpose) == expected.map { String(format: "%02x", $0) }.joined())
        }
        #expect(Hex.lowercase([0x00, 0x0F, 0xA0, 0xFF]) == "000fa0ff")
        #expect(Hex.lowercase([UInt8]()) == "")
    }
}

@Suite("Master key")
struct MasterKeyTests {
    @Test func parsesStandardAndURLSafeBase64() throws {
        let key = MasterKey.generate()
        #expect(try MasterKey(base64: key.base64, source: "test").checkValue == key.checkValue)
        let urlSafe = key.base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=",
            with: ""
        )
        #expect(try MasterKey(base64: urlSafe + "\n", source: "test").checkValue == key.checkValue)
    }

    @Test func refusesWrongLengthWithAClearMessage() throws {
        let short = Data(repeating: 1, count: 16).base64EncodedString()
        let error = try #require(throws: KeyError.self) { try MasterKey(base64: short, source: "LATCHKEY_MASTER_KEY") }
        #expect(error.description.contains("16 bytes") && error.description.contains("exactly 32 bytes"))
        #expect(!error.description.contains(short))
    }

    @Test(arguments: ["", "not*base64!", "%%%%"])
    func refusesNonBase64(value: String) throws {
        let error = try #require(throws: KeyError.self) { try MasterKey(base64: value, source: "LATCHKEY_MASTER_KEY") }
        #expect(error.description.contains("not valid base64"))
    }

    @Test func checkValuesDifferPerKeyAndRevealNothing() {
        let a = MasterKey.generate()
        let b = MasterKey.generate()
        #expect(a.checkValue != b.checkValue)
        #expect(!a.base64.contains(a.checkValue))
    }

    @Test func keyFileIsCreatedOwnerOnlyAndNeverOverwritten() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lk-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let provider = KeyFileProvider(path: directory.appendingPathComponent("master.key").path)
        #expect(try await provider.loadMasterKey() == nil)
        let created = try await provider.createMasterKey()
        let attributes = try FileManager.default.attributesOfItem(atPath: provider.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try await provider.loadMasterKey()?.checkValue == created.checkValue)
        await #expect(throws: KeyError.self) { try await provider.createMasterKey() }
        #expect(try await provider.loadMasterKey()?.checkValue == created.checkValue)
    }
}
