/// Lowercase hexadecimal of bytes (MACs, digests, fingerprints), written in one pass without intermediate arrays.
public enum Hex {
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        let digits: StaticString = "0123456789abcdef"
        let source = Array(bytes)
        return String(unsafeUninitializedCapacity: source.count * 2) { out in
            digits.withUTF8Buffer { digits in
                for (index, byte) in source.enumerated() {
                    out[2 * index] = digits[Int(byte >> 4)]
                    out[2 * index + 1] = digits[Int(byte & 0x0F)]
                }
            }
            return source.count * 2
        }
    }
}
