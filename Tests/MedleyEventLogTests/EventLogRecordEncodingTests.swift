import Foundation
import MedleyProtocol
import Testing

@testable import MedleyEventLog

/// The log writer frames each record by hand around its event's encoding; the bytes must be
/// the protobuf encoding of the record message, which readers and workers decode.
@Suite struct EventLogRecordEncodingTests {
    @Test func handFramedRecordsAreTheProtobufEncoding() throws {
        var state: UInt64 = 1
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        for i in 0..<3_000 {
            var event = Medley_V1_SessionEvent()
            event.userID = "user-\(next() % 1000)"
            event.itemID = i % 7 == 0 ? "" : "item é\(next())"
            event.domain = "music"
            event.type = Medley_V1_EventType(rawValue: Int(next() % 8)) ?? .view
            event.timestampMs = Int64(bitPattern: next() << UInt64(i % 12))
            if i % 3 == 0 { event.sessionID = "s\(i)" }
            if i % 4 == 0 { event.weight = 0.25 }
            event.dwellMs = UInt32(truncatingIfNeeded: next())
            let sequence = [0, 1, 127, 128, next(), UInt64.max][i % 6]
            let receivedAtMs = [0, -1, 1_700_000_000_000, Int64.min, Int64(bitPattern: next())][i % 5]
            var receipt: Medley_V1_IngestReceipt?
            if i % 5 == 0 {
                var r = Medley_V1_IngestReceipt()
                r.idempotencyKey = "key-\(i)"
                r.requestSha256 = Data((0..<32).map { _ in UInt8(truncatingIfNeeded: next()) })
                r.ack.accepted = UInt32(i)
                receipt = r
            }
            let expected: [UInt8] = try Medley_V1_EventLogRecord.with {
                $0.sequence = sequence
                $0.receivedAtMs = receivedAtMs
                $0.event = event
                if let receipt { $0.receipt = receipt }
            }.serializedBytes()
            let framed = try EventLogRecordEncoding.encode(sequence: sequence, receivedAtMs: receivedAtMs, event: event, receipt: receipt)
            #expect(framed == expected, "record \(i)")
        }
        // An empty event is still written as a present (empty) field 3.
        let empty = try EventLogRecordEncoding.encode(sequence: 0, receivedAtMs: 0, event: Medley_V1_SessionEvent(), receipt: nil)
        #expect(empty == [0x1A, 0x00])
    }

    /// The event itself is written by hand too: every field's edge (empty and set optional
    /// strings, lengths past one varint byte, negative and unknown enum values, NaN and -0
    /// weights, negative timestamps) and unknown fields kept from decoding.
    @Test func handWrittenEventsAreTheProtobufEncoding() throws {
        var state: UInt64 = 7
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
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
            var written: [UInt8] = []
            EventLogRecordEncoding.append(event, to: &written)
            #expect(written == expected, "event \(i)")
            #expect(EventLogRecordEncoding.encodedSize(of: event) == expected.count, "event \(i)")
        }
    }
}
