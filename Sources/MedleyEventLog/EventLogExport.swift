import Foundation
import MedleyProtocol

/// Writes an event stream into event-log segments, as `medley import` and `medley gen` do,
/// so that the trainer reads imported and live events the same way.
public enum EventLogExport {
    /// Appends `events` in order to the log at `directory` (created, or continued if it
    /// exists) and syncs it; returns the last sequence number written.
    public static func write(_ events: [Medley_V1_SessionEvent], to directory: String) throws -> UInt64 {
        let writer = try EventLogWriter(directory: directory)
        let receivedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        // Chunks keep each write and its buffer a few megabytes at most.
        for start in stride(from: 0, to: events.count, by: 10_000) {
            _ = try writer.append(Array(events[start..<min(start + 10_000, events.count)]), receivedAtMs: receivedAtMs)
        }
        try writer.close()
        return writer.lastSequence
    }
}
