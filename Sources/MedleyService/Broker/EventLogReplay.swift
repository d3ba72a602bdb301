import MedleyProtocol

/// Reads back the recent part of the event log, to rebuild sessions when users move to
/// another worker.
enum EventLogReplay {
    /// Calls `body` with each record received at or after `receivedSinceMs` whose sequence
    /// is at most `throughSequence`, in log order, with the record's encoded bytes.
    static func forEachRecord(
        in directory: String, receivedSinceMs: Int64, throughSequence: UInt64,
        _ body: (Medley_V1_EventLogRecord, [UInt8]) throws -> Void
    ) throws {
        guard throughSequence > 0 else { return }
        let reader = EventLogReader(directory: directory)
        try reader.seek(toReceivedAtMs: receivedSinceMs)
        while let entry = try reader.next() {
            guard entry.record.sequence <= throughSequence else { return }
            try body(entry.record, try entry.record.serializedBytes())
        }
    }
}
