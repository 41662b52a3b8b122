/// A link code such as `ABC-123`: what a chat bot shows a person who must link their chat account to their Latchkey
/// account, typed by that person on the `/link` page. Three letters without look-alikes (no I, L, O) and three
/// digits: about 12 000 letter groups times 1 000 digit groups.
///
/// The letters find the code (no two live codes of a tenant share them), the whole code proves it: a wrong guess of
/// the digits counts against that one code, which is used up after ``maximumWrongGuesses``. Neither part is stored in
/// clear (the storage keeps keyed hashes of ``lookupText`` and ``text``).
public struct LinkCode: Sendable, Equatable, CustomStringConvertible {
    /// The three letters.
    public let letters: String
    /// The three digits.
    public let digits: String

    /// Letters that cannot be mistaken for digits or for one another when read aloud or copied from a chat.
    public static let letterAlphabet: [Character] = Array("ABCDEFGHJKMNPQRSTUVWXYZ")
    static let digitAlphabet: [Character] = Array("0123456789")

    /// How long a code can be used after it was issued: 10 minutes.
    public static let lifetime: Double = 10 * 60
    /// Wrong guesses of a code's digits before the code is used up.
    public static let maximumWrongGuesses = 5
    /// Wrong guesses against all the codes of one account (Slack `T1/U2`) issued within ``accountGuessWindow``, after
    /// which every live code of the account is used up, as is each newer one at its first wrong guess: guessing
    /// spread over several codes, people or browsers stays limited.
    public static let maximumWrongGuessesPerAccount = 10
    /// How far back the wrong guesses of an account's codes count: 15 minutes.
    public static let accountGuessWindow: Double = 15 * 60

    /// A new random code from `generator` (the system's cryptographically secure one by default).
    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> LinkCode {
        let letters = String((0..<3).map { _ in letterAlphabet.randomElement(using: &generator)! })
        let digits = String((0..<3).map { _ in digitAlphabet.randomElement(using: &generator)! })
        return LinkCode(letters: letters, digits: digits)
    }

    /// A new random code from the system's cryptographically secure generator.
    public static func generate() -> LinkCode {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    /// Reads what a person typed: case, spaces and the hyphen do not matter (`abc123`, `ABC 123`, ` abc-123 `); nil
    /// when it is not three letters of the alphabet followed by three digits.
    public init?(parsing input: String) {
        let kept = input.uppercased().filter { !$0.isWhitespace && $0 != "-" }
        guard kept.count == 6 else { return nil }
        let letters = String(kept.prefix(3))
        let digits = String(kept.suffix(3))
        guard letters.allSatisfy(Self.letterAlphabet.contains), digits.allSatisfy(Self.digitAlphabet.contains) else { return nil }
        self.init(letters: letters, digits: digits)
    }

    private init(letters: String, digits: String) {
        self.letters = letters
        self.digits = digits
    }

    /// `ABC-123`.
    public var text: String { letters + "-" + digits }

    /// What finds the code among the live ones (its letters).
    public var lookupText: String { letters }

    public var description: String { "LinkCode(\(letters)-***)" }
}
