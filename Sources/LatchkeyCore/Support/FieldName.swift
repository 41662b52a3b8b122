/// Field names as they may be echoed back in an error: names that look like identifiers are shown, anything that
/// could be a pasted secret (long, or digit-heavy) is not.
public enum FieldName {
    public static func safe(_ name: String) -> String {
        let isIdentifier =
            name.count <= 32 && name.first?.isLetter == true
            && name.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
        return isIdentifier && name.filter(\.isNumber).count <= 3 ? name : "(unrecognised field)"
    }
}
