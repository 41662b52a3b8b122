import HTTPTypes
import Hummingbird
import LatchkeyGateway
import LatchkeyMCP
import LatchkeyOAuthClient
import NIOCore

/// The HTTP answers of `/mcp`: JSON-RPC bodies with the status and headers Streamable HTTP asks for.
enum MCPHTTPReply {
    static let sessionID = HTTPField.Name("Mcp-Session-Id")!
    static let protocolVersion = HTTPField.Name("MCP-Protocol-Version")!
    static let method = HTTPField.Name("Mcp-Method")!
    static let name = HTTPField.Name("Mcp-Name")!
    static let wwwAuthenticate = HTTPField.Name("WWW-Authenticate")!

    /// A JSON body with `Cache-Control: no-store` (answers depend on the caller).
    static func json(_ value: JSONValue, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: ToolJSON.bytes(value))))
    }

    /// A JSON-RPC error response without an id (the request could not be read, or was refused before).
    static func error(
        _ status: HTTPResponse.Status,
        _ message: String,
        code: Int = JSONRPCError.invalidRequestCode,
        headers: HTTPFields = [:]
    )
        -> Response
    {
        json(JSONRPC.response(id: nil, error: JSONRPCError(code: code, message: message)), status: status, headers: headers)
    }

    /// `202 Accepted`, no body: a notification or a client's response was taken.
    static var accepted: Response { Response(status: .accepted, headers: [.cacheControl: "no-store"]) }
}
