import MedleyModel
import MedleyProtocol

/// What a user's session needs of one event-log record (`EventLogRecord`): its sequence
/// number, the user, the client's session id and the model's event.
public struct LoggedEvent: Sendable, Equatable {
    /// The record's log sequence number (0: not logged).
    public var sequence: UInt64
    public var userID: String
    /// The client's session id, when the event carries one (possibly empty).
    public var sessionID: String?
    /// The model's event; nil when its type is unspecified or unknown (``SessionEvent/init(_:)``).
    public var event: SessionEvent?

    public init(sequence: UInt64, userID: String, sessionID: String?, event: SessionEvent?) {
        self.sequence = sequence
        self.userID = userID
        self.sessionID = sessionID
        self.event = event
    }

    /// The record's fields, as the general protobuf decoder gives them.
    public init(_ record: Medley_V1_EventLogRecord) {
        let event = record.event
        self.init(sequence: record.sequence, userID: event.userID, sessionID: event.hasSessionID ? event.sessionID : nil,
                  event: SessionEvent(event))
    }

    /// Reads a record's bytes, or nil when it cannot be read here (then the general decoder
    /// decides: ``init(_:)`` after `Medley_V1_EventLogRecord(serializedBytes:)`).
    ///
    /// The records the service's log writer makes are read field by field without building the
    /// protobuf message, which is most of a worker's cost per ingested event. Only that form is
    /// read: each known field at most once with its schema's wire type, an event present, no
    /// ingest receipt, no unknown field, valid UTF-8, and integers in their fields' ranges.
    /// Anything else (which a well-formed log does not hold, but protobuf allows) returns nil,
    /// so this never disagrees with the general decoder.
    public init?(canonical bytes: [UInt8]) {
        guard let decoded = bytes.withUnsafeBytes({ buffer in
            var reader = LoggedEventReader(bytes: buffer)
            return reader.record()
        }) else { return nil }
        self = decoded
    }
}

/// A forward-only reader of the protobuf wire format over one record's bytes.
private struct LoggedEventReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    var end: Int

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.end = bytes.count
    }

    private enum WireType: UInt64 {
        case varint = 0, lengthDelimited = 2, fixed32 = 5
    }

    /// A varint of at most 10 bytes, or nil.
    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // The tenth byte may only carry the top bit.
                return shift == 63 && byte > 1 ? nil : value
            }
            shift += 7
        }
        return nil
    }

    /// The next field's number and wire type, or nil (at the end, or on a malformed tag).
    private mutating func tag() -> (field: UInt64, wire: WireType)? {
        guard position < end, let key = varint(), let wire = WireType(rawValue: key & 7) else { return nil }
        return (key >> 3, wire)
    }

    /// The range of a length-delimited field's bytes, moving past it.
    private mutating func delimited() -> Range<Int>? {
        guard let length = varint(), length <= UInt64(end - position) else { return nil }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    private mutating func string() -> String? {
        guard let range = delimited() else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[range]).assumingMemoryBound(to: UInt8.self)
        // ASCII, the usual id, is valid UTF-8 as it is; the standard library's generic check
        // (a runtime type lookup per call) is left to the rest.
        if text.allSatisfy({ $0 < 0x80 }) { return String(decoding: text, as: UTF8.self) }
        return String(validating: text, as: UTF8.self)
    }

    mutating func record() -> LoggedEvent? {
        var sequence: UInt64?
        var receivedAt: UInt64?
        var event: LoggedEvent?
        while position < end {
            guard let (field, wire) = tag() else { return nil }
            switch (field, wire) {
            case (1, .varint):
                guard sequence == nil, let value = varint() else { return nil }
                sequence = value
            case (2, .varint):
                guard receivedAt == nil, let value = varint() else { return nil }
                receivedAt = value
            case (3, .lengthDelimited):
                guard event == nil, let range = delimited() else { return nil }
                var inner = LoggedEventReader(bytes: bytes)
                inner.position = range.lowerBound
                inner.end = range.upperBound
                guard let read = inner.event() else { return nil }
                event = read
            default:
                return nil
            }
        }
        guard var event else { return nil }
        event.sequence = sequence ?? 0
        return event
    }

    /// A `SessionEvent` message's fields (sequence left 0).
    private mutating func event() -> LoggedEvent? {
        var userID: String?, sessionID: String?, itemID: String?, domain: String?
        var type: Int32?, timestamp: Int64?, dwell: UInt32?, weight: Float?
        while position < end {
            guard let (field, wire) = tag() else { return nil }
            switch (field, wire) {
            case (1, .lengthDelimited):
                guard userID == nil, let value = string() else { return nil }
                userID = value
            case (2, .lengthDelimited):
                guard sessionID == nil, let value = string() else { return nil }
                sessionID = value
            case (3, .lengthDelimited):
                guard itemID == nil, let value = string() else { return nil }
                itemID = value
            case (4, .lengthDelimited):
                guard domain == nil, let value = string() else { return nil }
                domain = value
            case (5, .varint):
                // An enum is an int32, sent sign-extended to 64 bits when negative.
                guard type == nil, let value = varint(), let raw = Int32(exactly: Int64(bitPattern: value)) else { return nil }
                type = raw
            case (6, .varint):
                guard timestamp == nil, let value = varint() else { return nil }
                timestamp = Int64(bitPattern: value)
            case (7, .varint):
                guard dwell == nil, let value = varint(), let narrow = UInt32(exactly: value) else { return nil }
                dwell = narrow
            case (8, .fixed32):
                guard weight == nil, end - position >= 4 else { return nil }
                weight = Float(bitPattern: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian)
                position += 4
            default:
                return nil
            }
        }
        let wireType = Medley_V1_EventType(rawValue: Int(type ?? 0)) ?? .UNRECOGNIZED(Int(type ?? 0))
        let modelEvent = EventType(wireType).map { eventType in
            SessionEvent(item: ItemReference(domain: domain ?? "", id: itemID ?? ""), type: eventType,
                         timestampMilliseconds: timestamp ?? 0,
                         dwellMilliseconds: dwell.flatMap { $0 == 0 ? nil : Int64($0) }, weight: weight)
        }
        return LoggedEvent(sequence: 0, userID: userID ?? "", sessionID: sessionID, event: modelEvent)
    }
}
