import Foundation
import LatchkeyHTTP
import Testing

@Suite("The shipped OpenAPI document")
struct OpenAPIDocumentTests {
    @Test func theShippedDocumentLoadsAndValidates() throws {
        let data = try OpenAPIDocument.data()
        try OpenAPIDocument.validate(data)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        #expect((document["paths"] as? [String: Any])?["/api/v1/credentials"] != nil)
    }

    @Test(arguments: [
        (#"{"openapi": "3.1.0", "info": "#, "openapi.json: is not valid JSON"),
        (#"["openapi"]"#, "openapi.json: must be a JSON object"),
        (
            #"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {}}}"#,
            "openapi.json: /openapi: must be an OpenAPI 3.1"
        ),
        (#"{"openapi": "3.1.0", "info": {"title": "t"}, "paths": {"/a": {}}}"#, "openapi.json: /info/version: must be a non-empty string"),
        (
            #"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
            "openapi.json: /paths: must be an object with at least one path"
        ),
        (
            #"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/api/v1/a": {"get": {"summary": "x"}}}}"#,
            "openapi.json: /paths/~1api~1v1~1a/get/responses: must list at least one response"
        ),
        (
            ##"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Gone"}}}}}}"##,
            "openapi.json: /paths/~1a/get/responses/200/$ref: #/components/responses/Gone points at nothing in the document"
        ),
    ])
    func aBrokenDocumentIsRefusedNamingThePlaceAtFault(text: String, expected: String) {
        #expect {
            try OpenAPIDocument.validate(Data(text.utf8))
        } throws: { error in
            (error as? OpenAPIDocumentError)?.description.hasPrefix(expected) == true
        }
    }
}
