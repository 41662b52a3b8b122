import Foundation
import LatchkeyIdentity
import Testing

/// What a person types: `ABC-123` codes, read forgivingly, never with look-alike letters.
@Suite("Link code format")
struct LinkCodeFormatTests {
    @Test func aCodeIsThreeLettersWithoutLookAlikesAndThreeDigits() {
        var system = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let code = LinkCode.generate(using: &system)
            #expect(code.text.range(of: #"^[A-HJKMNP-Z]{3}-[0-9]{3}$"#, options: .regularExpression) != nil, "\(code.text)")
            #expect(LinkCode(parsing: code.text) == code)
        }
        #expect(!LinkCode.letterAlphabet.contains("I") && !LinkCode.letterAlphabet.contains("L") && !LinkCode.letterAlphabet.contains("O"))
    }

    @Test(arguments: [("abc123", "ABC-123"), (" ABC 123 ", "ABC-123"), ("abc-123", "ABC-123"), ("XyZ-909", "XYZ-909")])
    func whatAPersonTypesIsReadForgivingly(typed: String, code: String) {
        #expect(LinkCode(parsing: typed)?.text == code)
    }

    @Test(arguments: ["", "AB-123", "ABCD-123", "ABC-12", "123-ABC", "AIO-123", "ABC-12O", "ÄBC-123", "ABC_123"])
    func anythingElseIsNotACode(typed: String) {
        #expect(LinkCode(parsing: typed) == nil)
    }

    @Test func theDescriptionHidesTheDigits() {
        let code = LinkCode(parsing: "ABC-123")
        #expect(code.map { "\($0)" } == "LinkCode(ABC-***)")
    }

    @Test func whatAnAppSaysAboutItsUserIsChecked() {
        #expect(AppIdentityRules.providerProblem("slack") == nil)
        #expect(AppIdentityRules.providerProblem("ms-teams_2") == nil)
        #expect(AppIdentityRules.providerProblem("Slack") != nil)
        #expect(AppIdentityRules.providerProblem("2slack") != nil)
        #expect(AppIdentityRules.providerProblem(String(repeating: "a", count: 33)) != nil)
        #expect(AppIdentityRules.providerProblem("password")?.contains("keeps for its own") == true)
        #expect(AppIdentityRules.subjectProblem("T1/U2") == nil)
        #expect(AppIdentityRules.subjectProblem(" ") != nil)
        #expect(AppIdentityRules.subjectProblem(String(repeating: "u", count: 201)) != nil)
        #expect(AppIdentityRules.subjectProblem("T1\u{0}U2") != nil)
        #expect(AppIdentityRules.subjectProblem("T1\u{202E}U2") != nil)
    }
}
