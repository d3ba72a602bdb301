import MedleyProtocol
import MedleyService

/// Reads every event of one or more event-log directories, in log order: what `medley train`
/// learns from, whether the log was written by `medley serve`, `import` or `gen`.
enum EventLogImport {
    static func readEvents(from directories: [String]) throws -> [Medley_V1_SessionEvent] {
        var events: [Medley_V1_SessionEvent] = []
        for directory in directories {
            let reader = EventLogReader(directory: directory)
            while let entry = try reader.next() { events.append(entry.record.event) }
        }
        return events
    }
}
