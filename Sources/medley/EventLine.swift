import Foundation
import MedleyProtocol

/// One event as `medley send --file` reads it: a JSON object per line, such as
/// `{"user": "u1", "item": "n42", "domain": "news", "type": "view", "timestamp_ms": 1700000000000}`.
/// `timestamp_ms` defaults to now; `dwell_ms`, `session` and `weight` are optional.
struct EventLine: Decodable {
    var user: String
    var item: String
    var domain: String
    var type: String
    var timestampMs: Int64?
    var dwellMs: UInt32?
    var session: String?
    var weight: Float?

    enum CodingKeys: String, CodingKey {
        case user, item, domain, type, session, weight
        case timestampMs = "timestamp_ms"
        case dwellMs = "dwell_ms"
    }

    /// The wire event; `nowMs` stands in for a missing timestamp (nil: a timestamp is required,
    /// as it is for an ingest with an idempotency key, whose retry must send the same events).
    func event(nowMs: Int64?) throws -> Medley_V1_SessionEvent {
        guard let timestampMs = timestampMs ?? nowMs else {
            throw EventLineError(message: "no timestamp_ms: with an idempotency key every event needs its time, so that a retry sends the same events")
        }
        var event = Medley_V1_SessionEvent()
        event.userID = user
        event.itemID = item
        event.domain = domain
        event.type = try EventLine.eventType(type)
        event.timestampMs = timestampMs
        event.dwellMs = dwellMs ?? 0
        if let session { event.sessionID = session }
        if let weight { event.weight = weight }
        return event
    }

    static func eventType(_ name: String) throws -> Medley_V1_EventType {
        guard let type = Medley_V1_EventType(name: name) else {
            let names = Medley_V1_EventType.byName.keys.sorted().joined(separator: ", ")
            throw EventLineError(message: "unknown event type \"\(name)\"; use one of \(names)")
        }
        return type
    }

    /// Reads a JSON-lines file (`-`: standard input); blank lines are skipped, a bad line is
    /// an error naming it.
    static func read(path: String, nowMs: Int64?) throws -> [Medley_V1_SessionEvent] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw EventLineError(message: "cannot read \(path)")
            }
            data = contents
        }
        let text = String(decoding: data, as: UTF8.self)
        let decoder = JSONDecoder()
        var events: [Medley_V1_SessionEvent] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            do {
                events.append(try decoder.decode(EventLine.self, from: Data(trimmed.utf8)).event(nowMs: nowMs))
            } catch let error as EventLineError {
                throw EventLineError(message: "\(path):\(number + 1): \(error.message)")
            } catch {
                throw EventLineError(message: "\(path):\(number + 1): not an event object: \(error)")
            }
        }
        return events
    }
}

struct EventLineError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
