import Foundation
import MedleyEventConversion
import MedleyEventLog
import MedleyModel
import MedleyProtocol
import MedleySystem
import MedleyTestSupport
import SwiftProtobuf
import Testing

/// The worker reads the log writer's records without the protobuf decoder
/// (`LoggedEvent(canonical:)`); whatever it reads must be what the general decoder gives.
@Suite("Logged events read without the protobuf decoder")
struct LoggedEventDecodingTests {
    private static let alphabet = Array("abcXYZ09-_ é日本🎵")

    static func randomEvent(_ random: inout SplitMix64) -> Medley_V1_SessionEvent {
        func text(_ random: inout SplitMix64, empty: Bool = false) -> String {
            String((0..<(random.below(12) + (empty ? 0 : 1))).map { _ in alphabet[random.below(alphabet.count)] })
        }
        var event = Medley_V1_SessionEvent()
        event.userID = text(&random)
        if random.below(3) == 0 { event.sessionID = text(&random, empty: true) }
        event.itemID = text(&random)
        event.domain = ["news", "video", "music", "söng"][random.below(4)]
        // Known types, unspecified, and values no version of the schema has.
        let raw = [0, 1, 2, 3, 4, 5, 6, 7, 99, -3][random.below(10)]
        event.type = Medley_V1_EventType(rawValue: raw) ?? .UNRECOGNIZED(raw)
        event.timestampMs = [0, 1, -1, Int64.max, Int64.min, 1_700_000_000_000 + Int64(random.below(1_000_000))][random.below(6)]
        event.dwellMs = [0, 1, 127, 128, UInt32.max, UInt32(random.below(100_000))][random.below(6)]
        if random.below(2) == 0 { event.weight = [0, 0.5, 1, 3.25, Float.greatestFiniteMagnitude][random.below(5)] }
        return event
    }

    /// The record as the log writer builds it.
    static func record(_ event: Medley_V1_SessionEvent, sequence: UInt64, receivedAtMs: Int64) -> Medley_V1_EventLogRecord {
        Medley_V1_EventLogRecord.with {
            $0.sequence = sequence
            $0.receivedAtMs = receivedAtMs
            $0.event = event
        }
    }

    /// Equal fields, weights compared by their bits (a damaged record can hold a NaN weight).
    static func same(_ a: LoggedEvent, _ b: LoggedEvent) -> Bool {
        var a = a, b = b
        let weights = (a.event?.weight?.bitPattern, b.event?.weight?.bitPattern)
        a.event?.weight = nil
        b.event?.weight = nil
        return a == b && weights.0 == weights.1
    }

    @Test func theLogWritersRecordsAreReadAsTheGeneralDecoderReadsThem() throws {
        let directory = try TestDirectories.make(prefix: "medley-logged-events")
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SplitMix64(seed: 7)
        let writer = try EventLogWriter(directory: directory.path)
        for _ in 0..<40 {
            let events = (0..<(random.below(50) + 1)).map { _ in Self.randomEvent(&random) }
            _ = try writer.append(events, receivedAtMs: 1_700_000_000_000 + Int64(random.below(1000)))
        }
        try writer.close()
        let reader = EventLogReader(directory: directory.path)
        var count = 0
        while let entry = try reader.next() {
            let general = LoggedEvent(try Medley_V1_EventLogRecord(serializedBytes: entry.bytes))
            let read = try #require(LoggedEvent(canonical: entry.bytes), "record \(entry.position.sequence)")
            #expect(read == general)
            #expect(read.sequence == entry.position.sequence)
            count += 1
        }
        #expect(count > 500)
    }

    @Test func everyFieldIsReadAsTheGeneralDecoderReadsIt() throws {
        var random = SplitMix64(seed: 11)
        var withEvent = 0, withSession = 0, withWeight = 0
        for _ in 0..<5_000 {
            let event = Self.randomEvent(&random)
            let bytes: [UInt8] = try Self.record(event, sequence: random.next() >> UInt64(random.below(64)),
                                                 receivedAtMs: Int64(bitPattern: random.next())).serializedBytes()
            let read = try #require(LoggedEvent(canonical: bytes))
            #expect(read == LoggedEvent(try Medley_V1_EventLogRecord(serializedBytes: bytes)))
            if read.event != nil { withEvent += 1 }
            if read.sessionID != nil { withSession += 1 }
            if read.event?.weight != nil { withWeight += 1 }
        }
        // Every branch was exercised: events the model knows and does not, session ids, weights.
        #expect(withEvent > 1000 && withEvent < 4900 && withSession > 1000 && withWeight > 500)
    }

    /// Forms protobuf allows but the log writer does not make are left to the general decoder.
    @Test func otherFormsAreLeftToTheGeneralDecoder() throws {
        var random = SplitMix64(seed: 3)
        var event = Self.randomEvent(&random)
        event.type = .view
        let plain = Self.record(event, sequence: 5, receivedAtMs: 9)
        let bytes: [UInt8] = try plain.serializedBytes()
        #expect(LoggedEvent(canonical: bytes) != nil)

        var withReceipt = plain
        withReceipt.receipt.idempotencyKey = "key"
        #expect(LoggedEvent(canonical: try withReceipt.serializedBytes()) == nil)
        #expect(LoggedEvent(canonical: []) == nil)                                       // no event
        #expect(LoggedEvent(canonical: bytes + [0x78, 0x01]) == nil)                     // unknown field 15
        #expect(LoggedEvent(canonical: bytes + [0x08, 0x06]) == nil)                     // sequence twice
        #expect(LoggedEvent(canonical: Array(bytes.dropLast())) == nil)                  // truncated
        // The general decoder keeps the last of a repeated scalar and ignores unknown fields.
        #expect(try Medley_V1_EventLogRecord(serializedBytes: bytes + [0x08, 0x06]).sequence == 6)
        #expect(try Medley_V1_EventLogRecord(serializedBytes: bytes + [0x78, 0x01]).sequence == 5)

        // A user id that is not UTF-8: the general decoder refuses it too.
        var inner: [UInt8] = [0x0A, 0x02, 0xC3, 0x28, 0x28, 0x01]
        var record: [UInt8] = [0x1A, UInt8(inner.count)] + inner
        #expect(LoggedEvent(canonical: record) == nil)
        #expect(throws: (any Error).self) { try Medley_V1_EventLogRecord(serializedBytes: record) }
        // A dwell beyond 32 bits, and a type beyond 32 bits: protobuf truncates them.
        for field: UInt8 in [0x38, 0x28] {
            inner = [0x0A, 0x01, 0x61, field, 0x80, 0x80, 0x80, 0x80, 0x10]
            record = [0x1A, UInt8(inner.count)] + inner
            #expect(LoggedEvent(canonical: record) == nil)
            _ = try Medley_V1_EventLogRecord(serializedBytes: record)
        }
    }

    /// Damaged records: whenever the fast reader reads one, the general decoder reads the
    /// same fields from it.
    @Test func damagedRecordsAreReadAlikeOrLeftToTheGeneralDecoder() throws {
        var random = SplitMix64(seed: 5)
        var fastlyRead = 0, refused = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = try Self.record(Self.randomEvent(&random), sequence: UInt64(random.below(1 << 20)),
                                                 receivedAtMs: 1_700_000_000_000).serializedBytes()
            for _ in 0...random.below(3) {
                switch random.below(3) {
                case 0 where !bytes.isEmpty: bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
                case 1 where !bytes.isEmpty: bytes.remove(at: random.below(bytes.count))
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: random.below(bytes.count + 1))
                }
            }
            guard let read = LoggedEvent(canonical: bytes) else {
                refused += 1
                continue
            }
            fastlyRead += 1
            let general = try #require(try? Medley_V1_EventLogRecord(serializedBytes: bytes), "\(bytes)")
            #expect(Self.same(read, LoggedEvent(general)), "\(bytes)")
        }
        #expect(fastlyRead > 1000 && refused > 1000)
    }
}

private extension SplitMix64 {
    /// A number in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
