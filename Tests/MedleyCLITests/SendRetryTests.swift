import Foundation
import MedleyEventLog
import MedleyService
import Testing

@Suite("medley send --idempotency-key", .serialized)
struct SendRetryTests {
    @Test func sendingTheSameCommandTwiceStoresTheEventOnce() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try CLIFixtures.writeModel(in: directory)
        let logDirectory = directory.appendingPathComponent("log").path
        let server = RunningProcess(arguments: ["serve", "--model", model, "--log-dir", logDirectory, "--bind", "tcp://127.0.0.1:*", "--workers", "1"])
        try server.start()
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
        guard let endpoint = server.waitForLog(#"clients=(tcp://[0-9.:]+).*\] ready"#) else {
            Issue.record("medley serve did not report ready: \(server.standardError)")
            return
        }
        let send = ["send", "--endpoint", endpoint, "--user", "ana", "--item", "m3", "--domain", "music", "--type", "play",
                    "--timestamp-ms", "1700000000000", "--idempotency-key", "ana-1"]
        let first = try MedleyExecutable.run(send)
        let again = try MedleyExecutable.run(send)
        #expect(first.status == 0 && again.status == 0, "\(first.stderr) \(again.stderr)")
        #expect(first.stdout == again.stdout, "the retry reports the first acknowledgement")
        #expect(first.stdout.contains("durable through sequence 1"))

        let untimed = try MedleyExecutable.run(Array(send.dropLast(4)) + ["--idempotency-key", "ana-2"])
        #expect(untimed.status != 0)
        #expect(untimed.stderr.contains("--idempotency-key needs --timestamp-ms"))
        let lines = #"{"user": "bo", "item": "m4", "domain": "music", "type": "play"}"#
        let untimedFile = try MedleyExecutable.run(["send", "--endpoint", endpoint, "--file", "-", "--idempotency-key", "bo-1"], input: lines)
        #expect(untimedFile.status != 0)
        #expect(untimedFile.stderr.contains("no timestamp_ms"))

        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0)
        let reader = EventLogReader(directory: logDirectory)
        var count = 0
        while try reader.next() != nil { count += 1 }
        #expect(count == 1, "the event is stored once")
    }
}
