import MedleyEventLog
import MedleyProtocol

/// Reads back the recent part of the event log, to rebuild sessions when users move to
/// another worker: the records received at or after a time, up to a sequence number, in
/// log order.
struct EventLogReplay {
    private let reader: EventLogReader
    private let throughSequence: UInt64

    init(directory: String, receivedSinceMs: Int64, throughSequence: UInt64) throws {
        reader = EventLogReader(directory: directory)
        self.throughSequence = throughSequence
        if throughSequence > 0 { try reader.seek(toReceivedAtMs: receivedSinceMs) }
    }

    /// The next record and its encoded bytes, or nil at the end of the window.
    func next() throws -> (record: Medley_V1_EventLogRecord, bytes: [UInt8])? {
        guard throughSequence > 0, let entry = try reader.next(), entry.record.sequence <= throughSequence else { return nil }
        return (entry.record, try entry.record.serializedBytes())
    }
}
