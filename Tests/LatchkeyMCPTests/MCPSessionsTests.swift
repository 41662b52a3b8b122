import Crypto
import Foundation
import LatchkeyMCP
import LatchkeyTesting
import Testing

/// Session ids: signed and bound to the person and client they were issued to, ended by DELETE, expiring.
@Suite("MCP sessions")
struct MCPSessionsTests {
    let clock = TestClock()
    var sessions: MCPSessions { MCPSessions(key: SymmetricKey(data: Data(repeating: 7, count: 32)), clock: clock, lifetime: .seconds(3600)) }

    @Test func aSessionIsLiveForItsOwnerOnly() {
        let sessions = self.sessions
        let id = sessions.open(for: .alice, version: .v2025_06_18)
        #expect(sessions.check(id, for: .alice) == .active(.v2025_06_18))
        var bob = MCPPrincipal.alice
        bob.userID = "bob"
        #expect(sessions.check(id, for: bob) == .unknown)
        var otherClient = MCPPrincipal.alice
        otherClient.clientID = "client-2"
        #expect(sessions.check(id, for: otherClient) == .unknown)
    }

    @Test func aTamperedOrForeignIdIsUnknown() {
        let sessions = self.sessions
        let id = sessions.open(for: .alice, version: .v2025_06_18)
        #expect(sessions.check(id.replacingOccurrences(of: "2025-06-18", with: "2025-11-25"), for: .alice) == .unknown)
        #expect(sessions.check("made-up", for: .alice) == .unknown)
        let elsewhere = MCPSessions(key: SymmetricKey(data: Data(repeating: 8, count: 32)), clock: clock)
        #expect(elsewhere.check(id, for: .alice) == .unknown)
    }

    @Test func anEndedSessionIsUnknownAndEndsOnce() {
        let sessions = self.sessions
        let id = sessions.open(for: .alice, version: .v2025_11_25)
        var bob = MCPPrincipal.alice
        bob.userID = "bob"
        #expect(!sessions.end(id, for: bob))
        #expect(sessions.check(id, for: .alice) == .active(.v2025_11_25))
        #expect(sessions.end(id, for: .alice))
        #expect(sessions.check(id, for: .alice) == .unknown)
        #expect(!sessions.end(id, for: .alice))
    }

    @Test func aSessionExpiresAfterItsLifetime() {
        let sessions = self.sessions
        let id = sessions.open(for: .alice, version: .v2025_11_25)
        clock.advance(by: 3599)
        #expect(sessions.check(id, for: .alice) == .active(.v2025_11_25))
        clock.advance(by: 2)
        #expect(sessions.check(id, for: .alice) == .unknown)
    }
}
