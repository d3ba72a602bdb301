import MedleyProtocol

/// Writes a load run's requests straight into their bytes, the bytes
/// `Medley_V1_Request.serializedBytes()` makes for the same requests: ingest requests of plays
/// of `load-user-N` on catalogue items at one time, and recommend requests of `load-user-N`
/// whose context is plays of catalogue items a minute apart. The fields an item's play always
/// has (its id, domain and type) and the times are encoded once; a request is sized, then
/// written into memory reserved once: per event a copy of those and a user id's digits, where
/// messages built per request and their user ids formatted per event cost the load generator
/// CPU on the cores the server under test shares.
struct LoadRequestWriter {
    private let items: [(domain: String, id: String)]
    /// With `encodeItemsAhead`, item i's play's fields 3, 4 and 5 (item id, domain, type),
    /// encoded, are `itemFields[itemStarts[i] ..< itemStarts[i + 1]]`: one buffer, nothing
    /// retained per event. Otherwise each is encoded as it is written (a recommend run's few
    /// context events a request do not pay for a catalogue of millions encoded per client).
    private let itemFields: [UInt8]
    private let itemStarts: [Int]
    /// Field 5, a play, encoded.
    private let playField: [UInt8]
    /// Field 6 (the time) of an event `m` minutes before the writer's time, encoded, for m in
    /// 0 ..< the context's length (at least one); empty at time 0, which the encoding leaves out.
    private let timeFields: [[UInt8]]

    private static let userPrefix = Array("load-user-".utf8)

    /// `contextEvents`: the most context events a recommend request carries.
    init(items: [(domain: String, id: String)], timestampMs: Int64, contextEvents: Int = 0, encodeItemsAhead: Bool) {
        self.items = items
        var fields: [UInt8] = []
        var starts = [0]
        for item in encodeItemsAhead ? items : [] {
            var event = Medley_V1_SessionEvent()
            event.itemID = item.id
            event.domain = item.domain
            event.type = .play
            event.appendEncoding(to: &fields)
            starts.append(fields.count)
        }
        itemFields = fields
        itemStarts = starts
        var play = Medley_V1_SessionEvent()
        play.type = .play
        var playBytes: [UInt8] = []
        play.appendEncoding(to: &playBytes)
        playField = playBytes
        timeFields = (0..<max(1, contextEvents)).map { minutesAgo in
            var time = Medley_V1_SessionEvent()
            time.timestampMs = timestampMs - Int64(minutesAgo) * 60_000
            var bytes: [UInt8] = []
            time.appendEncoding(to: &bytes)
            return bytes
        }
    }

    var itemCount: Int { items.count }

    /// The ingest request `requestID` with one play per `(user, item)`, in order: user
    /// `load-user-<user>`, `item` an index into the writer's items, at the writer's time.
    func ingest(requestID: UInt64, events: [(user: UInt64, item: Int)]) -> [UInt8] {
        var bodySize = 0
        for event in events { bodySize += WireFormatWriter.lengthDelimitedSize(eventSize(user: event.user, item: event.item, minutesAgo: 0)) }
        return request(requestID: requestID, bodyTag: 0x82, bodySize: bodySize) { out in  // Request.body.ingest, field 16
            for event in events { appendEvent(tag: 0x0A, user: event.user, item: event.item, minutesAgo: 0, to: &out) }  // IngestRequest.events, field 1
        }
    }

    /// The recommend request `requestID` of user `load-user-<user>` for lists of `k`, whose
    /// context is a play of each of `context` (indexes into the writer's items), the first at
    /// the writer's time and each next one a minute earlier.
    func recommend(requestID: UInt64, user: UInt64, k: UInt32, context: [Int]) -> [UInt8] {
        precondition(context.count <= timeFields.count || context.isEmpty, "more context events than the writer was made for")
        let userLength = Self.userIDLength(user)
        var bodySize = WireFormatWriter.lengthDelimitedSize(userLength)
        for (minutesAgo, item) in context.enumerated() {
            bodySize += WireFormatWriter.lengthDelimitedSize(eventSize(user: user, item: item, minutesAgo: minutesAgo))
        }
        if k != 0 { bodySize += 1 + WireFormatWriter.varintSize(UInt64(k)) }
        return request(requestID: requestID, bodyTag: 0x8A, bodySize: bodySize) { out in  // Request.body.recommend, field 17
            Self.appendUserID(tag: 0x0A, user, to: &out)  // RecommendRequest.user_id, field 1
            for (minutesAgo, item) in context.enumerated() {
                appendEvent(tag: 0x1A, user: user, item: item, minutesAgo: minutesAgo, to: &out)  // RecommendRequest.context, field 3
            }
            if k != 0 {
                out.append(0x20)  // RecommendRequest.k, field 4
                WireFormatWriter.appendVarint(UInt64(k), to: &out)
            }
        }
    }

    /// A request's envelope (protocol version, request id) and a body of `bodySize` bytes in
    /// field `bodyTag` (a field from 16 on: two tag bytes), sized, then written by `body`.
    private func request(requestID: UInt64, bodyTag: UInt8, bodySize: Int, body: (inout [UInt8]) -> Void) -> [UInt8] {
        let headerSize = 1 + WireFormatWriter.varintSize(UInt64(ProtocolVersion.current))
            + (requestID == 0 ? 0 : 1 + WireFormatWriter.varintSize(requestID))
            + 2 + WireFormatWriter.varintSize(UInt64(bodySize))
        var out: [UInt8] = []
        out.reserveCapacity(headerSize + bodySize)
        out.append(0x08)  // Request.protocol_version, field 1
        WireFormatWriter.appendVarint(UInt64(ProtocolVersion.current), to: &out)
        if requestID != 0 {
            out.append(0x10)  // Request.request_id, field 2
            WireFormatWriter.appendVarint(requestID, to: &out)
        }
        out += [bodyTag, 0x01]
        WireFormatWriter.appendVarint(UInt64(bodySize), to: &out)
        body(&out)
        precondition(out.count == headerSize + bodySize, "a request written to another size than counted")
        return out
    }

    /// A play's size: its user id, the item's fields, its time.
    private func eventSize(user: UInt64, item: Int, minutesAgo: Int) -> Int {
        WireFormatWriter.lengthDelimitedSize(Self.userIDLength(user)) + itemFieldsSize(item) + timeFields[minutesAgo].count
    }

    private func itemFieldsSize(_ item: Int) -> Int {
        if itemStarts.count > 1 { return itemStarts[item + 1] - itemStarts[item] }
        let (domain, id) = items[item]
        return (id.isEmpty ? 0 : WireFormatWriter.stringFieldSize(id)) + (domain.isEmpty ? 0 : WireFormatWriter.stringFieldSize(domain))
            + playField.count
    }

    /// Fields 3, 4 and 5 of item `item`'s play.
    private func appendItemFields(_ item: Int, to out: inout [UInt8]) {
        if itemStarts.count > 1 {
            itemFields.withUnsafeBufferPointer { out += $0[itemStarts[item]..<itemStarts[item + 1]] }
            return
        }
        let (domain, id) = items[item]
        if !id.isEmpty { WireFormatWriter.appendString(tag: 0x1A, id, to: &out) }  // SessionEvent.item_id, field 3
        if !domain.isEmpty { WireFormatWriter.appendString(tag: 0x22, domain, to: &out) }  // SessionEvent.domain, field 4
        out += playField  // SessionEvent.type, field 5
    }

    /// A play as a length-delimited field `tag`.
    private func appendEvent(tag: UInt8, user: UInt64, item: Int, minutesAgo: Int, to out: inout [UInt8]) {
        out.append(tag)
        WireFormatWriter.appendVarint(UInt64(eventSize(user: user, item: item, minutesAgo: minutesAgo)), to: &out)
        Self.appendUserID(tag: 0x0A, user, to: &out)  // SessionEvent.user_id, field 1
        appendItemFields(item, to: &out)
        out += timeFields[minutesAgo]
    }

    private static func userIDLength(_ user: UInt64) -> Int { userPrefix.count + decimalDigits(user) }

    /// `load-user-<user>` as a string field `tag`.
    private static func appendUserID(tag: UInt8, _ user: UInt64, to out: inout [UInt8]) {
        out.append(tag)
        WireFormatWriter.appendVarint(UInt64(userIDLength(user)), to: &out)
        out += userPrefix
        appendDecimal(user, to: &out)
    }

    /// `value` in decimal, as `"\(value)"` spells it.
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        let start = out.count
        var rest = value
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        out[start...].reverse()
    }

    static func decimalDigits(_ value: UInt64) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return count
    }
}
