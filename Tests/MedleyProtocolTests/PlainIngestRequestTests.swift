import MedleyProtocol
import SwiftProtobuf
import Testing

/// The broker reads plain ingest requests by hand (``RequestRoute/plainIngestRequest()``);
/// whatever it reads must be what SwiftProtobuf decodes, and whatever is not plain is left to
/// SwiftProtobuf.
@Suite struct PlainIngestRequestTests {
    static let depth = ProtocolLimits.default.maxMessageDepth

    @Test func plainRequestsAreReadAsSwiftProtobufDecodesThemOthersLeftToIt() throws {
        var random = SplitMix64(seed: 0x696E_6765_7374)
        var read = 0, left = 0
        for _ in 0..<4000 {
            let frame = Self.randomIngestFrame(&random)
            let general = try Medley_V1_Request(serializedBytes: frame, options: Self.options)
            let route = try RequestRoute(reading: frame, maxMessageDepth: Self.depth)
            if let plain = route.plainIngestRequest() {
                #expect(try Self.same(plain, general.ingest), "\(frame)")
                read += 1
            } else {
                left += 1
            }
        }
        #expect(read > 1000 && left > 500)
    }

    @Test func damagedRequestsAreReadOnlyWhereSwiftProtobufDecodesThemAlike() throws {
        var random = SplitMix64(seed: 0x6461_6D61_6765_64)
        var read = 0, left = 0
        for _ in 0..<20_000 {
            var frame = Self.randomIngestFrame(&random)
            for _ in 0...(random.next() % 3) {
                switch random.next() % 3 {
                case 0 where !frame.isEmpty: frame[Int(random.next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: random.next())
                case 1 where !frame.isEmpty: frame.remove(at: Int(random.next() % UInt64(frame.count)))
                default: frame.insert(UInt8(truncatingIfNeeded: random.next()), at: Int(random.next() % UInt64(frame.count + 1)))
                }
            }
            guard let route = try? RequestRoute(reading: frame, maxMessageDepth: Self.depth), let plain = route.plainIngestRequest() else {
                left += 1
                continue
            }
            read += 1
            let general = try #require(try? Medley_V1_Request(serializedBytes: frame, options: Self.options), "read by hand, refused by SwiftProtobuf: \(frame)")
            #expect(try Self.same(plain, general.ingest) && general.requestID == route.requestID, "\(frame)")
        }
        // Most damage leaves the plain form; what stays in it (a changed id or time) is compared.
        #expect(read > 200 && left > 10_000, "\(read) read, \(left) left")
    }

    @Test func aDepthLimitTooSmallForEventsLeavesTheRequestToSwiftProtobuf() throws {
        let frame: [UInt8] = try Medley_V1_Request.with {
            $0.protocolVersion = 1
            $0.ingest.events = [Self.event(user: "u")]
        }.serializedBytes()
        #expect(try RequestRoute(reading: frame, maxMessageDepth: 4).plainIngestRequest()?.events.count == 1)
        #expect(try RequestRoute(reading: frame, maxMessageDepth: 3).plainIngestRequest() == nil)
    }

    // MARK: - Helpers

    /// Equal field by field, NaN weights included: the same encoding.
    static func same(_ a: Medley_V1_IngestRequest, _ b: Medley_V1_IngestRequest) throws -> Bool {
        try a.serializedBytes() as [UInt8] == b.serializedBytes() as [UInt8]
    }

    private static var options: BinaryDecodingOptions {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = depth
        return options
    }

    static func event(user: String) -> Medley_V1_SessionEvent {
        .with {
            $0.userID = user
            $0.itemID = "item-1"
            $0.domain = "news"
            $0.type = .play
            $0.timestampMs = 1_700_000_000_000
        }
    }

    /// An event's bytes: most plain, some with what is left to SwiftProtobuf (an unknown
    /// field, a field twice, a negative or out-of-range integer, another wire type).
    static func randomEventBytes(_ random: inout SplitMix64) throws -> [UInt8] {
        var event = Medley_V1_SessionEvent()
        if random.next() % 6 != 0 { event.userID = WireBuilder.randomString(&random) }
        if random.next() % 3 == 0 { event.sessionID = WireBuilder.randomString(&random) }
        if random.next() % 6 != 0 { event.itemID = WireBuilder.randomString(&random) }
        if random.next() % 6 != 0 { event.domain = ["news", "video", "music", ""][Int(random.next() % 4)] }
        event.type = Medley_V1_EventType(rawValue: Int(random.next() % 9)) ?? .play
        if random.next() % 5 != 0 { event.timestampMs = Int64(bitPattern: random.next() >> (random.next() % 64)) }
        if random.next() % 3 == 0 { event.dwellMs = UInt32(truncatingIfNeeded: random.next()) }
        if random.next() % 3 == 0 { event.weight = Float(bitPattern: UInt32(truncatingIfNeeded: random.next())) }
        var bytes: [UInt8] = try event.serializedBytes()
        switch random.next() % 12 {
        case 0: bytes += WireBuilder.field(9, varint: random.next())
        case 1: bytes += WireBuilder.field(1, bytes: Array("again".utf8))
        case 2: bytes += WireBuilder.field(5, varint: UInt64(bitPattern: -3))
        case 3: bytes += WireBuilder.field(7, varint: UInt64(UInt32.max) + 1)
        case 4: bytes += WireBuilder.field(6, fixed32: 7)
        default: break
        }
        return bytes
    }

    /// A `Request` frame holding an ingest body, now and then with an unknown field in the
    /// body, an idempotency key (sometimes twice), or a second ingest body to merge.
    static func randomIngestFrame(_ random: inout SplitMix64) -> [UInt8] {
        var body: [UInt8] = []
        for _ in 0..<(random.next() % 6) { body += WireBuilder.field(1, bytes: try! randomEventBytes(&random)) }
        if random.next() % 4 == 0 { body += WireBuilder.field(2, bytes: Array(WireBuilder.randomString(&random).utf8)) }
        if random.next() % 20 == 0 { body += WireBuilder.field(2, bytes: Array("second-key".utf8)) }
        if random.next() % 20 == 0 { body += WireBuilder.field(30, varint: 1) }
        var frame = WireBuilder.field(1, varint: 1) + WireBuilder.field(2, varint: random.next() % 1000) + WireBuilder.field(16, bytes: body)
        if random.next() % 20 == 0 { frame += WireBuilder.field(16, bytes: WireBuilder.field(1, bytes: try! randomEventBytes(&random))) }
        if random.next() % 10 == 0 { frame += WireBuilder.field(999, varint: 5) }
        return frame
    }
}
