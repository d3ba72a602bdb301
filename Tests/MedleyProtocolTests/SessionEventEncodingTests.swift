import MedleyProtocol
import Testing

/// Events written by hand (the event log, the load generator) must be the bytes SwiftProtobuf
/// writes, which every reader decodes.
@Suite struct SessionEventEncodingTests {
    /// Every field's edge (empty and set optional strings, lengths past one varint byte,
    /// negative and unknown enum values, NaN and -0 weights, negative timestamps) and unknown
    /// fields kept from decoding.
    @Test func handWrittenEventsAreSwiftProtobufsBytes() throws {
        var random = SplitMix64(seed: 7)
        func next() -> UInt64 { random.next() }
        let strings = ["", "u", "user-42", "ü\u{1F600}", String(repeating: "x", count: 127), String(repeating: "y", count: 128), String(repeating: "z", count: 20_000)]
        let weights: [Float] = [0, -0.0, 1, 0.25, .nan, .infinity, -3, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let types: [Int] = [0, 1, 2, 5, 99, -1, Int(Int32.min), Int(Int32.max)]
        let timestamps: [Int64] = [0, 1, -1, 1_700_000_000_000, .min, .max]
        for i in 0..<5_000 {
            var event = Medley_V1_SessionEvent()
            event.userID = strings[Int(next() % UInt64(strings.count))]
            if next() % 2 == 0 { event.sessionID = strings[Int(next() % UInt64(strings.count))] }
            event.itemID = strings[Int(next() % UInt64(strings.count))]
            event.domain = ["", "news", "video", "müsic"][Int(next() % 4)]
            event.type = Medley_V1_EventType(rawValue: types[Int(next() % UInt64(types.count))]) ?? .view
            event.timestampMs = next() % 3 == 0 ? Int64(bitPattern: next() << (next() % 40)) : timestamps[Int(next() % UInt64(timestamps.count))]
            event.dwellMs = [0, 1, 300, UInt32.max, UInt32(truncatingIfNeeded: next())][Int(next() % 5)]
            if next() % 2 == 0 { event.weight = weights[Int(next() % UInt64(weights.count))] }
            if i % 9 == 0 {
                // Fields of a newer schema, kept by decoding: a varint 20 and a string 21.
                var bytes: [UInt8] = try event.serializedBytes()
                bytes += [0xA0, 0x01, 0x07, 0xAA, 0x01, 0x02, 0x68, 0x69]
                event = try Medley_V1_SessionEvent(serializedBytes: bytes)
                #expect(!event.unknownFields.data.isEmpty)
            }
            let expected: [UInt8] = try event.serializedBytes()
            var written: [UInt8] = [0xFF]
            event.appendEncoding(to: &written)
            #expect(written == [0xFF] + expected, "event \(i)")
            #expect(event.encodedSize == expected.count, "event \(i)")
        }
    }

    @Test func varintsTakeOneBytePerSevenBits() {
        for (value, size) in [(UInt64(0), 1), (1, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (UInt64(1) << 63 - 1, 9), (.max, 10)] {
            var out: [UInt8] = []
            WireFormatWriter.appendVarint(value, to: &out)
            #expect(out.count == size && WireFormatWriter.varintSize(value) == size, "\(value)")
            #expect(out.last! < 0x80 && out.dropLast().allSatisfy { $0 >= 0x80 })
        }
    }
}
