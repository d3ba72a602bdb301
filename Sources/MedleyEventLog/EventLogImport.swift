import MedleyProtocol

/// Reads every event of one or more event-log directories, in log order: what `medley train`
/// learns from, whether the log was written by `medley serve`, `import` or `gen`.
public enum EventLogImport {
    /// The events the readers have not returned yet: everything up to each log's durable end,
    /// so calling again later returns what was appended since.
    public static func readNew(from readers: [EventLogReader]) throws -> [Medley_V1_SessionEvent] {
        var events: [Medley_V1_SessionEvent] = []
        for reader in readers {
            while let entry = try reader.next() { events.append(entry.record.event) }
        }
        return events
    }
}
