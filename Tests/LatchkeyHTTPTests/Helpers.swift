import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyBootstrap
import LatchkeyHTTPTesting
import LatchkeyTesting
import NIOCore

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    var json: [String: Any] {
        get throws {
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw TestFailure("body is not a JSON object: \(text.prefix(200))")
            }
            return object
        }
    }

    /// `error.code` of an error body.
    var errorCode: String? { (try? json)?["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } }

    var errorFields: [String] {
        guard let error = (try? json)?["error"] as? [String: Any], let fields = error["fields"] as? [[String: Any]] else { return [] }
        return fields.compactMap { $0["path"] as? String }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TestFixture {
    var headers: HTTPFields { [.authorization: bearer, .contentType: "application/json"] }
}

func body(_ object: [String: Any]) throws -> ByteBuffer {
    ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
}

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
