import MedleyEventLog
import MedleyProtocol

/// Where a rebalance reads the events that rebuild sessions: records in log order, each with
/// its user and its bytes as workers take them (`EventLogRecord` protobuf). Read on the
/// replay's own thread.
protocol SessionReplaySource {
    /// The next record, or nil at the end of the window.
    mutating func next() throws -> (userID: String, record: [UInt8])?
}

/// Makes the source for one replay: the records received at or after `sinceMs`, up to
/// `throughSequence`.
typealias SessionReplaySourceFactory = @Sendable (_ sinceMs: Int64, _ throughSequence: UInt64) throws -> any SessionReplaySource

/// Reads back the recent part of the event log: the records received at or after a time,
/// up to a sequence number, in log order.
struct EventLogReplay: SessionReplaySource {
    private let reader: EventLogReader
    private let throughSequence: UInt64

    init(directory: String, receivedSinceMs: Int64, throughSequence: UInt64) throws {
        reader = EventLogReader(directory: directory)
        self.throughSequence = throughSequence
        if throughSequence > 0 { try reader.seek(toReceivedAtMs: receivedSinceMs) }
    }

    /// The record's bytes as stored: a replay forwards what the log wrote, as ingest does.
    func next() throws -> (userID: String, record: [UInt8])? {
        guard throughSequence > 0, let entry = try reader.next(), entry.record.sequence <= throughSequence else { return nil }
        return (entry.record.event.userID, entry.bytes)
    }

    /// Replays from the log in `directory`.
    static func factory(directory: String) -> SessionReplaySourceFactory {
        { sinceMs, throughSequence in try EventLogReplay(directory: directory, receivedSinceMs: sinceMs, throughSequence: throughSequence) }
    }
}
