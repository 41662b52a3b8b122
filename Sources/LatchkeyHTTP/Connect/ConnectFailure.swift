import HTTPTypes
import LatchkeyCore

/// A connect attempt that could not finish, told to the person in plain words. Nothing is stored when this is
/// thrown; when `retryKey` is set the page offers *Try again*.
struct ConnectFailure: Error, Sendable {
    var heading: String
    var message: String
    var status: HTTPResponse.Status
    var retryKey: String?
    var reconnect: String?

    static func badState(_ message: String) -> ConnectFailure {
        ConnectFailure(heading: "This connection link cannot be used", message: message, status: .badRequest)
    }

    /// The provider's answer broke the protocol (a parameter given twice): refused, nothing stored.
    static func malformedAnswer(_ reason: String) -> ConnectFailure {
        ConnectFailure(
            heading: "The provider's answer was malformed",
            message: "The answer that brought you back here was malformed (\(reason)), so it was refused and nothing was connected. "
                + "Please start again from your connections.",
            status: .badRequest
        )
    }
}
