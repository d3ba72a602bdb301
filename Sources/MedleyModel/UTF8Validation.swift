/// Checks that bytes are well-formed UTF-8 (the Unicode Standard's table 3-7: no overlong forms,
/// no surrogates, nothing above U+10FFFF, no truncated sequence) without making a `String`, so
/// that a vocabulary of millions of ids read from a model file is checked in one pass over its
/// bytes and no allocation per id.
enum UTF8Validation {
    /// Whether `bytes` are well-formed UTF-8.
    static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var i = 0
        while i < count {
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            // The sequence's length and the range its second byte must fall in; every later
            // byte is a plain continuation byte (10xxxxxx).
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard count - i >= length else { return false }
            let second = bytes[i + 1]
            guard second >= low && second <= high else { return false }
            var k = 2
            while k < length {
                guard bytes[i + k] & 0xC0 == 0x80 else { return false }
                k += 1
            }
            i += length
        }
        return true
    }
}
