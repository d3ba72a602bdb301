import MedleyProtocol
import SwiftProtobuf
import Testing

/// The broker's reading of a request's envelope (``RequestRoute``) against SwiftProtobuf's
/// decoding of the whole request: whatever SwiftProtobuf decodes is read with the same version,
/// request id, body kind and user id, and the recommend body's bytes decode to the same
/// message; damaged frames are refused without a crash.
@Suite struct RequestRouteTests {
    static let depth = ProtocolLimits.default.maxMessageDepth

    // MARK: - Generated requests

    @Test func readsWhatSwiftProtobufDecodesOnGeneratedRequests() throws {
        var random = SplitMix64(seed: 0x726F_7574_65)
        var kinds: [RequestKind?: Int] = [:]
        for _ in 0..<4000 {
            let frame = WireBuilder.randomRequest(&random)
            let decoded = try Medley_V1_Request(serializedBytes: frame, options: Self.options)
            kinds[decoded.body?.kind, default: 0] += 1
            try expectSameReading(frame, decoded: decoded)
        }
        // Every kind (and no body) was generated often enough to be compared.
        for kind in [nil] + RequestKind.allCases { #expect(kinds[kind, default: 0] > 200, "\(String(describing: kind))") }
    }

    @Test func damagedFramesAreReadAsSwiftProtobufReadsThemOrRefused() throws {
        var random = SplitMix64(seed: 0x6461_6D61_6765)
        var refusedByBoth = 0
        var decodedByBoth = 0
        let trials = 6000
        for _ in 0..<trials {
            var frame = WireBuilder.randomRequest(&random)
            switch random.next() % 3 {
            case 0:
                frame.removeLast(1 + Int(random.next() % UInt64(frame.count)))
            case 1:
                for _ in 0...(random.next() % 3) where !frame.isEmpty {
                    frame[Int(random.next() % UInt64(frame.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                }
            default:
                let at = Int(random.next() % UInt64(frame.count + 1))
                frame.insert(contentsOf: (0..<(1 + random.next() % 6)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
            }
            let route = try? RequestRoute(reading: frame, maxMessageDepth: Self.depth)
            if let decoded = try? Medley_V1_Request(serializedBytes: frame, options: Self.options) {
                try expectSameReading(frame, decoded: decoded)
                decodedByBoth += 1
            } else if route == nil {
                refusedByBoth += 1
            }
        }
        // Both outcomes were exercised: damage is mostly refused, and some damage still decodes.
        #expect(refusedByBoth > trials / 3)
        #expect(decodedByBoth > trials / 20)
    }

    /// Every prefix of a frame whose recommend body holds no nested message: each is refused
    /// by both readers, or read by both (a cut between two fields).
    @Test func truncatedFramesAreRefusedExactlyWhenSwiftProtobufRefusesThem() throws {
        var recommend = Medley_V1_RecommendRequest()
        recommend.userID = "ana-\u{00E9}-\u{1F3B5}"
        recommend.k = 300
        recommend.domains = ["news", "music"]
        recommend.includeScores = true
        let frame = WireBuilder.field(1, varint: 1) + WireBuilder.field(2, varint: 0x1234_5678_9ABC)
            + WireBuilder.group(7, depth: 3) + WireBuilder.field(17, bytes: try recommend.serializedBytes())
            + WireBuilder.field(900, fixed32: 7)
        for length in 0..<frame.count {
            let prefix = Array(frame.prefix(length))
            let decoded = try? Medley_V1_Request(serializedBytes: prefix, options: Self.options)
            let route = try? RequestRoute(reading: prefix, maxMessageDepth: Self.depth)
            #expect((decoded == nil) == (route == nil), "prefix of \(length) bytes")
            if let decoded { try expectSameReading(prefix, decoded: decoded) }
        }
    }

    // MARK: - Particular frames

    @Test(arguments: [
        [UInt8]([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),  // varint never ends
        [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // an eleven-byte varint
        [0x0A, 0x05, 0x01],  // length 5, 1 byte follows
        [0x07],  // wire type 7 does not exist
        [0x00],  // field number 0
        [0x0C],  // an end-group with no group open
        [0x0B, 0x08, 0x01],  // a group that never ends
        [0x0B, 0x14],  // a group closed by another field's end tag
        [0x8A, 0x01, 0x03, 0x0A, 0x05, 0x61],  // recommend → user_id: truncated
        [0x8A, 0x01, 0x01, 0x07],  // recommend → a tag of wire type 7
        [0x09, 0x01, 0x02],  // fixed64 cut short
        [0x88, 0x80, 0x80, 0x80, 0x80, 0x00],  // a six-byte tag
    ])
    func refusesMalformedEnvelopes(frame: [UInt8]) {
        #expect((try? Medley_V1_Request(serializedBytes: frame, options: Self.options)) == nil)
        do {
            _ = try RequestRoute(validating: frame)
            Issue.record("\(frame) was read")
        } catch {
            #expect(error.errorCode == .malformedFrame)
            #expect(error.requestID == 0)
        }
    }

    @Test func checksLikeRequestValidationInItsOrder() throws {
        #expect(throws: RequestDecodingError.tooLarge(size: 17, limit: 16)) {
            try RequestRoute(validating: [UInt8](repeating: 0xFF, count: 17), limits: ProtocolLimits(maxBodyBytes: 16))
        }
        #expect(throws: RequestDecodingError.malformed(detail: "the frame is empty")) { try RequestRoute(validating: []) }
        var request = Fixtures.request(.recommend(Fixtures.recommendRequest), id: 12)
        request.protocolVersion = 2
        #expect(throws: RequestDecodingError.unsupportedVersion(2, requestID: 12)) {
            try RequestRoute(validating: request.serializedBytes())
        }
        // A body from a newer schema (field 21) is no body this service knows.
        let newer = WireBuilder.field(1, varint: 1) + WireBuilder.field(2, varint: 6) + WireBuilder.field(21, bytes: [])
        #expect(throws: RequestDecodingError.noKnownBody(requestID: 6)) { try RequestRoute(validating: newer) }
    }

    @Test func mergesRepeatedRecommendBodiesAsProtobufDoes() throws {
        var first = Medley_V1_RecommendRequest()
        first.userID = "first"
        first.k = 3
        var second = Medley_V1_RecommendRequest()
        second.userID = "second"
        second.domains = ["news"]
        let ingest = WireBuilder.field(16, bytes: try Fixtures.ingestRequest.serializedBytes())
        let frame = WireBuilder.field(1, varint: 1) + ingest + WireBuilder.field(17, bytes: try first.serializedBytes())
            + WireBuilder.field(2, varint: 9) + WireBuilder.field(17, bytes: try second.serializedBytes())
        let decoded = try Medley_V1_Request(serializedBytes: frame)
        let route = try RequestRoute(validating: frame)
        #expect(route.kind == .recommend)
        #expect(try route.recommendationUserID() == "second")
        let merged = try Medley_V1_RecommendRequest(serializedBytes: route.recommendation)
        #expect(merged == decoded.recommend)
        #expect(merged.k == 3 && merged.domains == ["news"])
        // A later body of another kind replaces the recommend body.
        let replaced = try RequestRoute(validating: frame + ingest)
        #expect(replaced.kind == .ingest)
        #expect(replaced.recommendation.isEmpty)
        #expect(try replaced.recommendationUserID() == "")
    }

    @Test func aUserIDThatIsNotUTF8IsRefusedWhenAsked() throws {
        let body = WireBuilder.field(1, bytes: [0x61, 0xC3, 0x28])  // a lead byte followed by ASCII
        let frame = WireBuilder.field(1, varint: 1) + WireBuilder.field(2, varint: 4) + WireBuilder.field(17, bytes: body)
        let route = try RequestRoute(validating: frame)
        #expect(route.requestID == 4)
        #expect(throws: WireFormatError.invalidUTF8) { try route.recommendationUserID() }
        #expect(throws: RequestDecodingError.malformed(detail: "a string field is not valid UTF-8")) {
            try Medley_V1_Request(validating: frame)
        }
    }

    // MARK: - The worker's decoding of the body

    /// The body's checks in the worker are the whole request's: a recommend request passes
    /// `Medley_V1_Request(validating:)` exactly when its envelope is read and its body decodes,
    /// at every depth around the limit (groups nested in a context event) and for strings
    /// that are not UTF-8.
    @Test(arguments: [3, 8, 16])
    func theBodysChecksAreTheWholeRequestsChecks(maxDepth: Int) throws {
        let limits = ProtocolLimits(maxMessageDepth: maxDepth)
        for nesting in 0...(maxDepth + 1) {
            for validUTF8 in [true, false] {
                let event = try Fixtures.event.serializedBytes() + WireBuilder.group(40, depth: nesting)
                    + (validUTF8 ? [] : WireBuilder.field(3, bytes: [0xFF]))
                let body = WireBuilder.field(1, bytes: Array("ana".utf8)) + WireBuilder.field(3, bytes: event)
                let frame = WireBuilder.field(1, varint: 1) + WireBuilder.field(2, varint: 77) + WireBuilder.field(17, bytes: body)
                let whole = Result { () throws(RequestDecodingError) in try Medley_V1_Request(validating: frame, limits: limits) }
                let once = Result { () throws(RequestDecodingError) in
                    let route = try RequestRoute(validating: frame, limits: limits)
                    return try Medley_V1_RecommendRequest(validating: route.recommendation, requestID: route.requestID, limits: limits)
                }
                switch (whole, once) {
                case (.success(let request), .success(let recommendation)):
                    #expect(request.recommend == recommendation)
                case (.failure(let before), .failure(let now)):
                    #expect(before.errorCode == now.errorCode)
                    // The envelope was read, so the reply now names the request.
                    if case .malformed(let detail) = before, case .malformedRecommendation = now {
                        #expect(now == .malformedRecommendation(detail: detail, requestID: 77))
                    }
                default:
                    Issue.record("nesting \(nesting), UTF-8 \(validUTF8): \(whole) before, \(once) now")
                }
            }
        }
    }

    @Test func aMalformedBodyIsAnsweredWithTheRequestsID() throws {
        do {
            _ = try Medley_V1_RecommendRequest(validating: [0x1A, 0x05, 0x01], requestID: 31)
            Issue.record("a truncated context event decoded")
        } catch {
            #expect(error == .malformedRecommendation(detail: "the bytes end in the middle of a field", requestID: 31))
            let reply = Medley_V1_Reply(failure: error)
            #expect(reply.requestID == 31)
            #expect(reply.error.code == .malformedFrame)
            #expect(reply.error.message.contains("recommend body"))
        }
    }

    // MARK: - Helpers

    private static var options: BinaryDecodingOptions {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = depth
        return options
    }

    private func expectSameReading(_ frame: [UInt8], decoded: Medley_V1_Request) throws {
        let route: RequestRoute
        do {
            route = try RequestRoute(reading: frame, maxMessageDepth: Self.depth)
        } catch {
            Issue.record("SwiftProtobuf decodes \(frame), the reader refuses it: \(error)")
            return
        }
        #expect(route.protocolVersion == decoded.protocolVersion)
        #expect(route.requestID == decoded.requestID)
        #expect(route.kind == decoded.body?.kind)
        if case .recommend(let recommend) = decoded.body {
            #expect(try route.recommendationUserID() == recommend.userID)
            #expect(try Medley_V1_RecommendRequest(serializedBytes: route.recommendation) == recommend)
        } else {
            #expect(route.recommendation.isEmpty)
        }
    }
}

/// Protobuf wire format written by hand, for frames no generated encoder writes: unknown
/// fields and groups, fields out of order or repeated, known fields with another wire type.
enum WireBuilder {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    static func tag(_ number: Int, _ wireType: UInt64) -> [UInt8] { varint(UInt64(number) << 3 | wireType) }
    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { tag(number, 0) + varint(value) }
    static func field(_ number: Int, fixed32 value: UInt32) -> [UInt8] { tag(number, 5) + withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func field(_ number: Int, fixed64 value: UInt64) -> [UInt8] { tag(number, 1) + withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func field(_ number: Int, bytes: [UInt8]) -> [UInt8] { tag(number, 2) + varint(UInt64(bytes.count)) + bytes }

    /// Groups nested `depth` deep (none for 0), each holding a varint field.
    static func group(_ number: Int, depth: Int) -> [UInt8] {
        guard depth > 0 else { return [] }
        return tag(number, 3) + field(1, varint: 5) + group(number + 1, depth: depth - 1) + tag(number, 4)
    }

    static func randomString(_ random: inout SplitMix64) -> String {
        let alphabet: [Character] = ["a", "b", "Z", "0", "-", "\u{00E9}", "\u{212B}", "\u{1F3B5}", "\u{4E2D}"]
        return String((0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }

    static func randomRecommend(_ random: inout SplitMix64) throws -> [UInt8] {
        var recommend = Medley_V1_RecommendRequest()
        if random.next() % 5 != 0 { recommend.userID = randomString(&random) }
        if random.next() % 3 == 0 { recommend.sessionID = randomString(&random) }
        recommend.k = UInt32(random.next() % 50)
        if random.next() % 2 == 0 { recommend.context = [Fixtures.event] }
        if random.next() % 3 == 0 { recommend.domains = ["news", "video"] }
        recommend.includeSeen = random.next() % 2 == 0
        var bytes: [UInt8] = try recommend.serializedBytes()
        // Unknown fields inside the body, and now and then a second user_id that wins.
        if random.next() % 4 == 0 { bytes += field(40, varint: random.next()) }
        if random.next() % 6 == 0 { bytes += group(41, depth: 1 + Int(random.next() % 3)) }
        if random.next() % 6 == 0 { bytes += field(1, bytes: Array(randomString(&random).utf8)) }
        return bytes
    }

    /// A `Request` frame: header fields, bodies and unknown fields in random order, some
    /// repeated, some with another wire type than their declared one.
    static func randomRequest(_ random: inout SplitMix64) -> [UInt8] {
        var parts: [[UInt8]] = []
        if random.next() % 8 != 0 { parts.append(field(1, varint: random.next() % 4 == 0 ? random.next() : random.next() % 3)) }
        if random.next() % 8 != 0 { parts.append(field(2, varint: random.next())) }
        let bodies = random.next() % 6 == 0 ? 2 : 1
        for _ in 0..<bodies {
            let number = 16 + Int(random.next() % 6)  // 21: a body from a newer schema
            let body: [UInt8]
            switch number {
            case 16: body = try! Fixtures.ingestRequest.serializedBytes()
            case 17: body = try! randomRecommend(&random)
            default: body = random.next() % 2 == 0 ? [] : field(40, varint: 1)
            }
            parts.append(field(number, bytes: body))
        }
        for _ in 0..<(random.next() % 4) {
            let number = [3, 14, 15, 22, 999, 5000][Int(random.next() % 6)]
            switch random.next() % 5 {
            case 0: parts.append(field(number, varint: random.next()))
            case 1: parts.append(field(number, fixed32: UInt32(truncatingIfNeeded: random.next())))
            case 2: parts.append(field(number, fixed64: random.next()))
            case 3: parts.append(field(number, bytes: Array(randomString(&random).utf8)))
            default: parts.append(group(number, depth: 1 + Int(random.next() % 4)))
            }
        }
        // A header field with another wire type is an unknown field, not the header.
        if random.next() % 6 == 0 { parts.append(field(Int(1 + random.next() % 2), fixed32: 9)) }
        if random.next() % 8 == 0 { parts.append(field(17, varint: 1)) }
        parts.shuffle(using: &random)
        return parts.flatMap { $0 }
    }
}
