import Foundation
import LatchkeyOAuthClient

/// What a transport's headers say about a request of the stateless revision (2026-07-28 mirrors the protocol
/// version, the method and the tool's name into `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`); they must
/// agree with the body, so that nothing routed on the headers runs something else.
public struct MCPRequestHeaders: Sendable, Equatable {
    public var protocolVersion: String?
    public var method: String?
    /// As sent: plain, or `=?base64?…?=` for a value that is not plain ASCII.
    public var name: String?

    public init(protocolVersion: String?, method: String?, name: String?) {
        self.protocolVersion = protocolVersion
        self.method = method
        self.name = name
    }

    /// Why the headers do not match `request` declaring `version`; nil when they do.
    func mismatch(_ request: JSONRPCRequest, version: String) -> String? {
        guard let protocolVersion else { return "The MCP-Protocol-Version header is missing; it must be \(version), as in _meta." }
        guard protocolVersion == version else {
            return "The MCP-Protocol-Version header (\(protocolVersion)) does not match the request's _meta protocol version (\(version))."
        }
        guard let method else { return "The Mcp-Method header is missing; it must be \(request.method)." }
        guard method == request.method else { return "The Mcp-Method header does not match the request's method (\(request.method))." }
        if request.method == "tools/call", case .string(let bodyName)? = request.params["name"] {
            guard let name else { return "The Mcp-Name header is missing; it must name the tool called." }
            guard Self.decoded(name) == bodyName else { return "The Mcp-Name header does not match params.name." }
        }
        return nil
    }

    /// A header value with the Base64 sentinel undone; nil when the sentinel wraps something that is not Base64 UTF-8.
    static func decoded(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let inner = value.dropFirst(9).dropLast(2)
        guard let data = Data(base64Encoded: String(inner)) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
