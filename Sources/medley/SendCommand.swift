import ArgumentParser
import Foundation
import MedleyClient
import MedleyProtocol
import SwiftProtobuf
import ZeroMQ

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send session events to a running server.",
        discussion: """
            One event from flags, or many from a JSON-lines file (--file), one object per line: \
            {"user": "u1", "item": "n42", "domain": "news", "type": "view", "timestamp_ms": 1700000000000}. \
            Prints how many the server accepted, each rejection with its reason, and the durable \
            log position of the batch. Exits 1 if any event was refused.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var client: ClientOptions

    @Option(help: "A JSON-lines file of events; - for standard input.")
    var file: String?

    @Option(help: "The user.") var user: String?
    @Option(help: "The item.") var item: String?
    @Option(help: "The item's domain (news, video, music, ...).") var domain: String?
    @Option(help: "What happened: view, click, play, complete, like, share, skip or dislike.") var type: String?
    @Option(help: "When, in milliseconds since the Unix epoch; default now.") var timestampMs: Int64?
    @Option(help: "How long the user stayed, in milliseconds.") var dwellMs: UInt32?
    @Option(help: "The client's session id; default: the server cuts sessions itself.") var session: String?
    @Option(help: "Events sent per request when reading a file.") var batchSize: Int = 500
    @Option(help: "Makes a retry safe: the same key and events sent again are stored once (batches get KEY-1, KEY-2, …); every event then needs its timestamp.")
    var idempotencyKey: String?

    func validate() throws {
        let flags = [user, item, domain, type]
        if file != nil {
            guard flags.allSatisfy({ $0 == nil }) else { throw ValidationError("give either --file or --user/--item/--domain/--type, not both") }
        } else {
            guard flags.allSatisfy({ $0 != nil }) else { throw ValidationError("an event needs --user, --item, --domain and --type (or use --file)") }
            _ = try EventLine.eventType(type!)
            guard idempotencyKey == nil || timestampMs != nil else {
                throw ValidationError("--idempotency-key needs --timestamp-ms, so that a retry sends the same event")
            }
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        global.bootstrapLogging()
        // With an idempotency key, no time is filled in: a retry must send the same events.
        let nowMs = idempotencyKey == nil ? Int64(Date().timeIntervalSince1970 * 1000) : nil
        let events: [Medley_V1_SessionEvent]
        if let file {
            events = try EventLine.read(path: file, nowMs: nowMs)
        } else {
            let line = EventLine(user: user!, item: item!, domain: domain!, type: type!, timestampMs: timestampMs, dwellMs: dwellMs, session: session)
            events = [try line.event(nowMs: nowMs)]
        }
        let context = try Context()
        let service = try ServiceClient(context: context, endpoint: client.endpoint, timeoutMilliseconds: client.timeoutMilliseconds, curve: try client.curve.role())
        var refused = 0
        for start in stride(from: 0, to: events.count, by: batchSize) {
            let batch = Array(events[start..<min(start + batchSize, events.count)])
            let key = idempotencyKey.map { events.count > batchSize ? "\($0)-\(start / batchSize + 1)" : $0 }
            let ack = try service.ingest(batch, idempotencyKey: key)
            refused += ack.rejections.count
            if client.json {
                print(try ack.jsonString())
            } else {
                print("accepted \(ack.accepted) of \(batch.count); durable through sequence \(ack.durablePosition.sequence)")
                for rejection in ack.rejections {
                    print("  event \(start + Int(rejection.index)) refused: \(rejection.message)")
                }
            }
        }
        if refused > 0 { throw ExitCode.failure }
    }
}
