import Foundation
import MedleyProtocol
import Testing
import ZeroMQ

@Suite("medley train --follow", .serialized)
struct FollowTrainingTests {
    /// A loopback port nobody is bound to right now.
    private func freePort() throws -> String {
        let context = try Context()
        let socket = try context.socket(.router)
        try socket.bind("tcp://127.0.0.1:*")
        let endpoint = try socket.lastEndpoint
        socket.close()
        try context.terminate()
        return endpoint
    }

    @Test func theTrainerFollowsTheServersLogAndTheServerSwapsInEachVersion() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let log = directory.appendingPathComponent("log").path
        let models = directory.appendingPathComponent("models").path
        let generated = try MedleyExecutable.run(["gen", "--out", log, "--users", "30", "--items-per-domain", "20", "--clusters", "2"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let publication = try freePort()
        let snapshot = try freePort()

        let trainer = RunningProcess(arguments: [
            "train", "--log", log, "--models-dir", models, "--dimension", "8", "--hidden", "16", "--epochs", "1",
            "--follow", "--follow-epochs", "1", "--every-events", "3", "--every-seconds", "1",
            "--publish", publication, "--snapshot", snapshot,
        ])
        try trainer.start()
        defer { trainer.signal(SIGKILL); _ = trainer.wait(timeoutSeconds: 10) }
        #expect(trainer.waitForLog(#"(following)"#, timeoutSeconds: 120) != nil, "\(trainer.standardError)")

        let server = RunningProcess(arguments: [
            "serve", "--model", "\(models)/1.safetensors", "--log-dir", log, "--bind", "tcp://127.0.0.1:*",
            "--workers", "1", "--subscribe", publication, "--snapshot", snapshot,
        ])
        try server.start()
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
        guard let endpoint = server.waitForLog(#"clients=(tcp://[0-9.:]+).*\] ready"#) else {
            Issue.record("server did not start: \(server.standardError)")
            return
        }

        // A new user with a new song: neither is in version 1.
        let lines = (0..<4).map { _ in
            #"{"user": "newcomer", "item": "brand-new-song", "domain": "music", "type": "complete"}"#
        }.joined(separator: "\n")
        let sent = try MedleyExecutable.run(["send", "--endpoint", endpoint, "--file", "-"], input: lines)
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")

        var reply: Medley_V1_RecommendReply?
        for _ in 0..<600 {
            let answer = try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", "someone", "--json", "--include-seen", "-k", "100"])
            if answer.status == 0, let decoded = try? Medley_V1_RecommendReply(jsonString: answer.stdout), decoded.modelVersion >= 2 {
                reply = decoded
                break
            }
            usleep(100_000)
        }
        let served = try #require(reply, "no reply from version 2: trainer \(trainer.standardError.suffix(2000)) server \(server.standardError.suffix(2000))")
        #expect(served.domains.first { $0.domain == "music" }?.items.contains { $0.itemID == "brand-new-song" } == true,
                "the new item entered the next model")
        #expect(FileManager.default.fileExists(atPath: "\(models)/2.safetensors"))

        trainer.signal(SIGTERM)
        #expect(trainer.wait(timeoutSeconds: 60) == 0, "\(trainer.standardError.suffix(2000))")
        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0)
    }
}
