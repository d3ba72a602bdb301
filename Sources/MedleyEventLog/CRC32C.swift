/// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final XOR
/// 0xFFFFFFFF. The checksum iSCSI, ext4 and LevelDB use; every event-log record carries one.
///
/// Table-driven slicing-by-8: eight bytes per step through eight 256-entry tables, several
/// times faster than the byte-at-a-time loop on the record sizes the log sees.
public struct CRC32C: Sendable, Equatable {
    private var state: UInt32 = 0xFFFF_FFFF

    /// A checksum over no bytes yet.
    public init() {}

    /// The checksum of everything passed to ``update(_:)`` so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// Feeds more bytes; checksumming in pieces gives the same value as in one go.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var pointer = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        var crc = state
        CRC32C.tables.withUnsafeBufferPointer { table in
            while remaining >= 8 {
                let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)) ^ UInt64(crc)
                let a = table[7 * 256 + Int(word & 0xFF)] ^ table[6 * 256 + Int((word >> 8) & 0xFF)]
                let b = table[5 * 256 + Int((word >> 16) & 0xFF)] ^ table[4 * 256 + Int((word >> 24) & 0xFF)]
                let c = table[3 * 256 + Int((word >> 32) & 0xFF)] ^ table[2 * 256 + Int((word >> 40) & 0xFF)]
                let d = table[1 * 256 + Int((word >> 48) & 0xFF)] ^ table[Int(word >> 56)]
                crc = a ^ b ^ c ^ d
                pointer += 8
                remaining -= 8
            }
            while remaining > 0 {
                let byte = pointer.load(as: UInt8.self)
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(byte)) & 0xFF)]
                pointer += 1
                remaining -= 1
            }
        }
        state = crc
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Eight tables of 256 entries, flattened: table `k` gives the CRC of a byte followed by `k`
    /// zero bytes, so eight bytes can be folded in with eight independent look-ups.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
            tables[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(k - 1) * 256 + byte]
                tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()
}
