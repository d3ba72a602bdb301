import Foundation
import MedleyProtocol
import Testing
import ZeroMQ

/// CURVE end to end over tcp loopback, with real `medley` processes: who gets service.
@Suite("medley processes with CURVE", .serialized, .enabled(if: Context.hasCapability("curve")))
struct CurveProcessTests {
    private func keygen(_ prefix: URL) throws {
        let run = try MedleyExecutable.run(["keygen", "--curve", "--out", prefix.path])
        #expect(run.status == 0, "\(run.stderr)")
    }

    private func recommend(_ endpoint: String, keys: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", "ana", "--json", "--timeout-milliseconds", "1500"] + keys)
    }

    @Test func onlyAllowedKeysGetServiceFromServerAndWorkerSockets() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let allowed = directory.appendingPathComponent("allowed")
        try FileManager.default.createDirectory(at: allowed, withIntermediateDirectories: true)
        for name in ["server", "friend", "stranger", "worker"] { try keygen(directory.appendingPathComponent(name)) }
        for name in ["friend", "worker"] {
            try FileManager.default.copyItem(at: directory.appendingPathComponent("\(name).pub"), to: allowed.appendingPathComponent("\(name).pub"))
        }
        let serverKey = directory.appendingPathComponent("server.pub").path
        func keys(_ name: String) -> [String] {
            ["--curve-secret", directory.appendingPathComponent("\(name).key").path, "--curve-server-key", serverKey]
        }
        let model = try CLIFixtures.writeModel(in: directory)

        guard let (server, endpoint, workerEndpoint) = try RunningProcess.serverForWorkerProcesses(model: model, in: directory, [
            "--curve-secret", directory.appendingPathComponent("server.key").path, "--allow-clients", allowed.path,
        ]) else { return }
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }

        // A worker without keys never joins, so nothing could answer; one with an allowed key does.
        let unkeyedWorker = RunningProcess(arguments: ["worker", "--connect", workerEndpoint, "--model", model, "--name", "unkeyed"])
        try unkeyedWorker.start()
        defer { unkeyedWorker.signal(SIGKILL); _ = unkeyedWorker.wait(timeoutSeconds: 10) }
        #expect(try recommend(endpoint, keys: keys("friend")).status != 0, "no worker may join without a key")
        let worker = RunningProcess(arguments: ["worker", "--connect", workerEndpoint, "--model", model, "--name", "keyed"] + keys("worker"))
        try worker.start()
        defer { worker.signal(SIGKILL); _ = worker.wait(timeoutSeconds: 10) }

        var answered = try recommend(endpoint, keys: keys("friend"))
        for _ in 0..<50 where answered.status != 0 {
            usleep(100_000)
            answered = try recommend(endpoint, keys: keys("friend"))
        }
        #expect(answered.status == 0, "an allowed client is served: \(answered.stderr)")
        #expect(try Medley_V1_RecommendReply(jsonString: answered.stdout).domains.count == 3)

        let unkeyed = try recommend(endpoint, keys: [])
        #expect(unkeyed.status != 0)
        #expect(unkeyed.stderr.contains("no reply"), "status \(unkeyed.status), stdout \(unkeyed.stdout)")
        #expect(try recommend(endpoint, keys: keys("stranger")).status != 0, "a key not in the directory gets nothing")
        let wrongServerKey = try MedleyExecutable.run([
            "recommend", "--endpoint", endpoint, "--user", "ana", "--timeout-milliseconds", "1500",
            "--curve-secret", directory.appendingPathComponent("friend.key").path,
            "--curve-server-key", directory.appendingPathComponent("stranger.pub").path,
        ])
        #expect(wrongServerKey.status != 0, "a client that trusts another server key does not talk to this one")

        // The directory is read again when it changes: the stranger's key, once added, is let in.
        try FileManager.default.copyItem(at: directory.appendingPathComponent("stranger.pub"), to: allowed.appendingPathComponent("stranger.pub"))
        #expect(try recommend(endpoint, keys: keys("stranger")).status == 0)

        worker.signal(SIGTERM)
        #expect(worker.wait(timeoutSeconds: 20) == 0, "\(worker.standardError)")
        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0, "\(server.standardError)")
    }

    @Test func withoutKeysServeBindsOnlyThisMachineUnlessToldOtherwise() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try CLIFixtures.writeModel(in: directory)
        let refused = try MedleyExecutable.run(["serve", "--model", model, "--bind", "tcp://0.0.0.0:*"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("reachable from other machines"))
        let workerRefused = try MedleyExecutable.run(["serve", "--model", model, "--worker-bind", "tcp://*:*"])
        #expect(workerRefused.status != 0)
        let halfKeyed = try MedleyExecutable.run(["serve", "--model", model, "--curve-secret", "x.key"])
        #expect(halfKeyed.status != 0)
        #expect(halfKeyed.stderr.contains("--allow-clients"))

        let local = RunningProcess(arguments: [
            "serve", "--model", model, "--log-dir", directory.appendingPathComponent("log").path, "--bind", "tcp://127.0.0.1:*", "--workers", "1",
        ])
        try local.start()
        defer { local.signal(SIGKILL); _ = local.wait(timeoutSeconds: 10) }
        #expect(local.waitForLog(#"(no CURVE keys: clients are not authenticated)"#) != nil, "it says so at start")
        local.signal(SIGTERM)
        #expect(local.wait(timeoutSeconds: 30) == 0)
    }

    @Test func aServerSubscribesToATrainerOverCurve() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let subscribers = directory.appendingPathComponent("subscribers")
        let clients = directory.appendingPathComponent("clients")
        for folder in [subscribers, clients] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        for name in ["trainer", "server", "client"] { try keygen(directory.appendingPathComponent(name)) }
        try FileManager.default.copyItem(at: directory.appendingPathComponent("server.pub"), to: subscribers.appendingPathComponent("server.pub"))
        try FileManager.default.copyItem(at: directory.appendingPathComponent("client.pub"), to: clients.appendingPathComponent("client.pub"))
        let first = try CLIFixtures.writeModel(in: directory, version: 1)
        let second = try CLIFixtures.writeModel(in: directory, version: 2)

        guard let (publisher, publication, snapshot) = try RunningProcess.publisher([
            "--delay-milliseconds", "100",
            "--curve-secret", directory.appendingPathComponent("trainer.key").path, "--allow-clients", subscribers.path, second,
        ]) else { return }
        defer { publisher.signal(SIGKILL); _ = publisher.wait(timeoutSeconds: 10) }

        let server = RunningProcess(arguments: [
            "serve", "--model", first, "--log-dir", directory.appendingPathComponent("log").path, "--bind", "tcp://127.0.0.1:*", "--workers", "1",
            "--curve-secret", directory.appendingPathComponent("server.key").path, "--allow-clients", clients.path,
            "--subscribe", publication, "--snapshot", snapshot, "--curve-server-key", directory.appendingPathComponent("trainer.pub").path,
        ])
        try server.start()
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
        guard let endpoint = server.waitForLog(#"clients=(tcp://[0-9.:]+).*\] ready"#) else {
            Issue.record("medley serve did not report ready: \(server.standardError)")
            return
        }
        let keys = ["--curve-secret", directory.appendingPathComponent("client.key").path,
                    "--curve-server-key", directory.appendingPathComponent("server.pub").path]
        var version: UInt64 = 0
        for _ in 0..<100 where version != 2 {
            let run = try recommend(endpoint, keys: keys)
            if run.status == 0 { version = try Medley_V1_RecommendReply(jsonString: run.stdout).modelVersion }
            if version != 2 { usleep(100_000) }
        }
        #expect(version == 2, "the server took the trainer's model over CURVE: \(server.standardError)")
        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0)
    }
}
