import Foundation
import LatchkeyCore

/// What a gateway call names to choose its credential (DESIGN §2): the end user, one credential, one Connection.
/// Checked alike on the token route and tool calls, before anything is looked up.
enum CredentialSelection {
    static func check(externalUserID: String?, credentialID: String?, connectionID: String?) throws(LatchkeyError) {
        if let externalUserID, externalUserID.isEmpty || externalUserID.unicodeScalars.count > 255 {
            throw LatchkeyError.invalidField("externalUserId", "must be 1 to 255 characters")
        }
        if let credentialID, UUID(uuidString: credentialID) == nil {
            throw LatchkeyError.invalidField("credentialId", "is not a valid credential id")
        }
        if let connectionID, UUID(uuidString: connectionID) == nil {
            throw LatchkeyError.invalidField("connectionId", "is not a valid connection id")
        }
    }
}
