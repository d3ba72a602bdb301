import Testing

@testable import MedleyEventLog

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test func piecewiseEqualsWhole() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = CRC32C.checksum(bytes)
        // Splits at every offset exercise the eight-byte loop and the byte tail from any alignment.
        for split in [0, 1, 3, 7, 8, 9, 500, 999, 1000] {
            var crc = CRC32C()
            bytes.withUnsafeBytes { buffer in
                crc.update(UnsafeRawBufferPointer(rebasing: buffer[0..<split]))
                crc.update(UnsafeRawBufferPointer(rebasing: buffer[split...]))
            }
            #expect(crc.value == whole, "split at \(split)")
        }
    }

    @Test func matchesBitwiseReference() {
        func reference(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return crc ^ 0xFFFF_FFFF
        }
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(CRC32C.checksum(bytes) == reference(bytes))
        }
    }
}
