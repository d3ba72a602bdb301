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
            // Appended after what the buffer already holds, which stays as it was.
            var framed: [UInt8] = [0xAB]
            try EventLogRecordEncoding.append(sequence: sequence, receivedAtMs: receivedAtMs, event: event, receipt: receipt, to: &framed)
            #expect(framed == [0xAB] + expected, "record \(i)")
        }
        // An empty event is still written as a present (empty) field 3.
        var empty: [UInt8] = []
        try EventLogRecordEncoding.append(sequence: 0, receivedAtMs: 0, event: Medley_V1_SessionEvent(), receipt: nil, to: &empty)
        #expect(empty == [0x1A, 0x00])
    }
}
