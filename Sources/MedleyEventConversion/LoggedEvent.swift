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
        guard let decoded = bytes.withUnsafeBytes({ LoggedEvent(canonical: $0) }) else { return nil }
        self = decoded
    }

    /// ``init(canonical:)`` for bytes in place (a record of a packed EVENTS frame).
    public init?(canonical bytes: UnsafeRawBufferPointer) {
        var reader = PlainWireReader(bytes: bytes, range: 0..<bytes.count)
        guard let decoded = Self.record(&reader) else { return nil }
        self = decoded
    }

    /// An `EventLogRecord`'s fields: a sequence, a receive time, an event, each at most once.
    private static func record(_ reader: inout PlainWireReader) -> LoggedEvent? {
        var sequence: UInt64?
        var receivedAt: UInt64?
        var event: Medley_V1_SessionEvent?
        while !reader.isAtEnd {
            guard let (field, wire) = reader.tag() else { return nil }
            switch (field, wire) {
            case (1, .varint):
                guard sequence == nil, let value = reader.varint() else { return nil }
                sequence = value
            case (2, .varint):
                guard receivedAt == nil, let value = reader.varint() else { return nil }
                receivedAt = value
            case (3, .lengthDelimited):
                guard event == nil, let range = reader.delimited() else { return nil }
                var inner = reader.message(in: range)
                guard let read = inner.sessionEvent() else { return nil }
                event = read
            default:
                return nil
            }
        }
        guard let event else { return nil }
        return LoggedEvent(sequence: sequence ?? 0, userID: event.userID, sessionID: event.hasSessionID ? event.sessionID : nil,
                           event: SessionEvent(event))
    }
}
