import MedleyProtocol

/// Writes a load run's ingest requests straight into their bytes: plays of `load-user-N` on
/// catalogue items at one time, the bytes `Medley_V1_Request.serializedBytes()` makes for
/// the same events. The fields an item's play always has (its id, domain and type) and the
/// time are encoded once; a request is sized, then written into memory reserved once: per event a copy of
/// those and a user id's digits, where a `SessionEvent` built and its user id formatted per
/// event cost the load generator CPU on the cores the server under test shares.
struct IngestRequestWriter {
    /// Item i's play's fields 3, 4 and 5 (item id, domain, type), encoded, are
    /// `itemFields[itemStarts[i] ..< itemStarts[i + 1]]`: one buffer, nothing retained per event.
    private let itemFields: [UInt8]
    private let itemStarts: [Int]
    /// Field 6 (the time), encoded; empty at time 0, which the encoding leaves out.
    private let timeField: [UInt8]

    private static let userPrefix = Array("load-user-".utf8)

    init(items: [(domain: String, id: String)], timestampMs: Int64) {
        var fields: [UInt8] = []
        var starts = [0]
        for item in items {
            var event = Medley_V1_SessionEvent()
            event.itemID = item.id
            event.domain = item.domain
            event.type = .play
            event.appendEncoding(to: &fields)
            starts.append(fields.count)
        }
        itemFields = fields
        itemStarts = starts
        var time = Medley_V1_SessionEvent()
        time.timestampMs = timestampMs
        var bytes: [UInt8] = []
        time.appendEncoding(to: &bytes)
        timeField = bytes
    }

    var itemCount: Int { itemStarts.count - 1 }

    /// The request `requestID` with one play per `(user, item)`, in order: user `load-user-<user>`,
    /// `item` an index into the writer's items. Sized first, then written in one pass.
    func request(requestID: UInt64, events: [(user: UInt64, item: Int)]) -> [UInt8] {
        let prefix = Self.userPrefix
        func userIDLength(_ user: UInt64) -> Int { prefix.count + Self.decimalDigits(user) }
        func eventSize(_ event: (user: UInt64, item: Int)) -> Int {
            let length = userIDLength(event.user)
            return 1 + WireFormatWriter.varintSize(UInt64(length)) + length
                + itemStarts[event.item + 1] - itemStarts[event.item] + timeField.count
        }
        var bodySize = 0
        for event in events {
            let size = eventSize(event)
            bodySize += 1 + WireFormatWriter.varintSize(UInt64(size)) + size
        }
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
        out += [0x82, 0x01]  // Request.body.ingest, field 16, length-delimited
        WireFormatWriter.appendVarint(UInt64(bodySize), to: &out)
        itemFields.withUnsafeBufferPointer { items in
            for event in events {
                out.append(0x0A)  // IngestRequest.events, field 1
                WireFormatWriter.appendVarint(UInt64(eventSize(event)), to: &out)
                out.append(0x0A)  // SessionEvent.user_id, field 1
                WireFormatWriter.appendVarint(UInt64(userIDLength(event.user)), to: &out)
                out += prefix
                Self.appendDecimal(event.user, to: &out)
                out += items[itemStarts[event.item]..<itemStarts[event.item + 1]]
                out += timeField
            }
        }
        precondition(out.count == headerSize + bodySize, "an ingest request written to another size than counted")
        return out
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
