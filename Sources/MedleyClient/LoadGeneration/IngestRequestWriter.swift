import MedleyProtocol

/// Writes a load run's ingest requests straight into their bytes: plays of `load-user-N` on
/// catalogue items at one time, the bytes `Medley_V1_Request.serializedBytes()` makes for
/// the same events. The fields an item's play always has (its id, domain and type) and the
/// time are encoded once; a request is sized, then written in one pass: per event a copy of
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
        return [UInt8](unsafeUninitializedCapacity: headerSize + bodySize) { buffer, count in
            var out = ByteCursor(base: buffer.baseAddress!)
            out.byte(0x08)  // Request.protocol_version, field 1
            out.varint(UInt64(ProtocolVersion.current))
            if requestID != 0 {
                out.byte(0x10)  // Request.request_id, field 2
                out.varint(requestID)
            }
            out.byte(0x82)  // Request.body.ingest, field 16, length-delimited
            out.byte(0x01)
            out.varint(UInt64(bodySize))
            itemFields.withUnsafeBufferPointer { items in
                for event in events {
                    out.byte(0x0A)  // IngestRequest.events, field 1
                    out.varint(UInt64(eventSize(event)))
                    out.byte(0x0A)  // SessionEvent.user_id, field 1
                    out.varint(UInt64(userIDLength(event.user)))
                    out.bytes(prefix)
                    out.decimal(event.user)
                    out.bytes(UnsafeBufferPointer(rebasing: items[itemStarts[event.item]..<itemStarts[event.item + 1]]))
                    out.bytes(timeField)
                }
            }
            count = out.written
            precondition(count == headerSize + bodySize, "an ingest request written to another size than counted")
        }
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

/// Writes forward from a pointer into memory sized beforehand.
private struct ByteCursor {
    let base: UnsafeMutablePointer<UInt8>
    var written = 0

    mutating func byte(_ value: UInt8) {
        base[written] = value
        written += 1
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            byte(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        byte(UInt8(rest))
    }

    mutating func bytes(_ source: some Collection<UInt8>) {
        for value in source { byte(value) }
    }

    mutating func bytes(_ source: UnsafeBufferPointer<UInt8>) {
        guard let start = source.baseAddress else { return }
        (base + written).update(from: start, count: source.count)
        written += source.count
    }

    /// `value` in decimal, as `"\(value)"` spells it.
    mutating func decimal(_ value: UInt64) {
        let digits = IngestRequestWriter.decimalDigits(value)
        var rest = value
        for position in stride(from: written + digits - 1, through: written, by: -1) {
            base[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        written += digits
    }
}
