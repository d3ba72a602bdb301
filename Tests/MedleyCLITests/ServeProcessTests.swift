import Foundation
import MedleyEventLog
import MedleyModel
import MedleyProtocol
import MedleyService
import Testing

@Suite("medley processes", .serialized)
struct ServeProcessTests {
    /// Starts `medley serve` on ephemeral ports and returns it with its client endpoint.
    private func startServer(model: String, logDirectory: String, extra: [String] = []) throws -> (RunningProcess, String) {
        let server = RunningProcess(arguments: [
            "serve", "--model", model, "--log-dir", logDirectory, "--bind", "tcp://127.0.0.1:*", "--workers", "2",
        ] + extra)
        try server.start()
        guard let endpoint = server.waitForLog(#"clients=(tcp://[0-9.:]+).*\] ready"#) else {
            server.signal(SIGKILL)
            Issue.record("medley serve did not report ready: \(server.standardError)")
            throw CancellationError()
        }
        return (server, endpoint)
    }

    @Test func aSessionFromServeToRecommendAndACleanStop() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let model = try CLIFixtures.writeModel(in: directory)
        let logDirectory = directory.appendingPathComponent("log").path
        let (server, endpoint) = try startServer(model: model, logDirectory: logDirectory)

        let sent = try MedleyExecutable.run(["send", "--endpoint", endpoint, "--user", "ana", "--item", "m3", "--domain", "music", "--type", "play"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains("accepted 1 of 1"))

        let lines = """
            {"user": "ana", "item": "m4", "domain": "music", "type": "complete"}
            {"user": "ana", "item": "n1", "domain": "news", "type": "view", "dwell_ms": 4000}
            {"user": "ana", "item": "x", "domain": "podcasts", "type": "play"}
            """
        let batch = try MedleyExecutable.run(["send", "--endpoint", endpoint, "--file", "-"], input: lines)
        #expect(batch.status == 1, "a refused event makes send exit 1")
        #expect(batch.stdout.contains("accepted 2 of 3"))
        #expect(batch.stdout.contains("podcasts"))

        let readable = try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", "ana", "-k", "3", "--scores"])
        #expect(readable.status == 0, "\(readable.stderr)")
        #expect(readable.stdout.contains("what next (session head)"))
        #expect(readable.stdout.contains("music"))

        let json = try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", "ana", "--json"])
        #expect(json.status == 0)
        let reply = try Medley_V1_RecommendReply(jsonString: json.stdout)
        #expect(reply.domains.count == 3)
        #expect(reply.modelVersion == 1)
        let recommended = Set(reply.domains.flatMap(\.items).map(\.itemID))
        #expect(recommended.isDisjoint(with: ["m3", "m4", "n1"]))

        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0, "SIGTERM exits 0: \(server.standardError)")
        #expect(server.standardError.contains("stopped"))
        let reader = EventLogReader(directory: logDirectory)
        var count = 0
        while try reader.next() != nil { count += 1 }
        #expect(count == 3, "every acknowledged event is in the log")
    }

    @Test func theProtocolLimitsAreOptions() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let model = try CLIFixtures.writeModel(in: directory)
        let (server, endpoint) = try startServer(model: model, logDirectory: directory.appendingPathComponent("log").path,
                                                 extra: ["--max-id-bytes", "8", "--max-request-bytes", "2048"])
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
        let longID = try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", "nine-byte"])
        #expect(longID.status != 0)
        #expect(longID.stderr.contains("user_id is 9 bytes; at most 8"), "\(longID.stderr)")
        let shortID = try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", "ana", "--json"])
        #expect(shortID.status == 0, "\(shortID.stderr)")
        let events = (0..<100).map { #"{"user": "ana", "item": "m\#($0)", "domain": "music", "type": "play"}"# }
        let large = try MedleyExecutable.run(["send", "--endpoint", endpoint, "--file", "-"], input: events.joined(separator: "\n"))
        #expect(large.status != 0)
        #expect(large.stderr.contains("the limit is 2048 bytes"), "\(large.stderr)")
        let refused = try MedleyExecutable.run(["serve", "--model", model, "--max-request-bytes", "0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--max-request-bytes must be between 1 and"))
        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0, "\(server.standardError)")
    }

    /// `--log-preallocation-mib`: the open segment holds that many MiB of zeros past its
    /// records while the service runs (none with 0), and none once it stops.
    @Test func theLogsZerosWrittenAheadAreAnOption() throws {
        func openSegmentBytes(_ preallocation: String?) throws -> (running: Int, stopped: Int) {
            let directory = try CLIFixtures.temporaryDirectory()
            let model = try CLIFixtures.writeModel(in: directory)
            let logDirectory = directory.appendingPathComponent("log")
            let (server, endpoint) = try startServer(model: model, logDirectory: logDirectory.path,
                                                     extra: preallocation.map { ["--log-preallocation-mib", $0] } ?? [])
            defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
            let sent = try MedleyExecutable.run(["send", "--endpoint", endpoint, "--user", "ana", "--item", "m3", "--domain", "music", "--type", "play"])
            #expect(sent.status == 0, "\(sent.stderr)")
            func segmentBytes() throws -> Int {
                let files = try FileManager.default.contentsOfDirectory(at: logDirectory, includingPropertiesForKeys: [.fileSizeKey])
                return try files.map { try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0 }.reduce(0, +)
            }
            let running = try segmentBytes()
            server.signal(SIGTERM)
            #expect(server.wait(timeoutSeconds: 30) == 0, "\(server.standardError)")
            return (running, try segmentBytes())
        }
        let byDefault = try openSegmentBytes(nil)
        let two = try openSegmentBytes("2")
        let none = try openSegmentBytes("0")
        #expect(byDefault.running >= 4 << 20 && byDefault.running < 5 << 20, "\(byDefault)")
        #expect(two.running >= 2 << 20 && two.running < 3 << 20, "\(two)")
        #expect(none.running < 64 << 10, "\(none)")
        #expect(byDefault.stopped == none.running && two.stopped == none.running && none.stopped == none.running,
                "the records alone once stopped: \(byDefault), \(two), \(none)")
        let refused = try MedleyExecutable.run(["serve", "--model", "unused", "--log-preallocation-mib=-1"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--log-preallocation-mib must be between 0 and 1024"), "\(refused.stderr)")
    }

    /// `--busy-poll-microseconds`: requests are answered with it, and an idle server stops
    /// polling once the window after its last batch closes (its CPU time over a quiet second
    /// stays far below the second a worker polling without end would spend).
    @Test func busyPollingAnswersAndEndsWhenIdle() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let model = try CLIFixtures.writeModel(in: directory)
        let (server, endpoint) = try startServer(model: model, logDirectory: directory.appendingPathComponent("log").path,
                                                 extra: ["--busy-poll-microseconds", "20000"])
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
        for user in ["ana", "ben", "cy"] {
            let answered = try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", user, "--json"])
            #expect(answered.status == 0, "\(answered.stderr)")
        }
        func cpuSeconds() throws -> Double {
            let stat = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/stat", encoding: .utf8)
            // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
            let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
            return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        Thread.sleep(forTimeInterval: 0.2)
        let before = try cpuSeconds()
        Thread.sleep(forTimeInterval: 1.5)
        let idle = try cpuSeconds() - before
        #expect(idle < 0.5, "an idle server spent \(idle) s of CPU in 1.5 s")
        let refused = try MedleyExecutable.run(["serve", "--model", model, "--busy-poll-microseconds=-1"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--busy-poll-microseconds must be between 0 and 1000000"), "\(refused.stderr)")
        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0, "\(server.standardError)")
    }

    @Test func theItemTableIsChosenByTheCatalogueUnlessGiven() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let small = try CLIFixtures.writeModel(in: directory)
        // 3 × 11,000 items of d = 64: 8.4 MB of float32, int8 on any machine.
        let large = directory.appendingPathComponent("large.safetensors").path
        let written = try MedleyExecutable.run(["bench", "write-model", "--items", "33000", "--dimension", "64", "--out", large])
        #expect(written.status == 0, "\(written.stderr)")
        for (model, extra, table) in [(small, [String](), "float32"), (large, [], "int8"), (large, ["--item-precision", "float32"], "float32")] {
            let (server, _) = try startServer(model: model, logDirectory: directory.appendingPathComponent("log-\(table)-\(extra.count)").path,
                                              extra: extra)
            defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
            #expect(server.waitForLog("itemTable=([a-z0-9]+)[^\\n]*\\] serving") == table, "\(model) \(extra): \(server.standardError)")
        }
        let refused = try MedleyExecutable.run(["serve", "--model", small, "--item-precision", "int4"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("auto"), "\(refused.stderr)")
    }

    @Test func aWorkerProcessServesUsers() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let model = try CLIFixtures.writeModel(in: directory)
        let (server, endpoint) = try startServer(
            model: model, logDirectory: directory.appendingPathComponent("log").path,
            extra: ["--workers", "0", "--worker-bind", "tcp://127.0.0.1:*"])
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
        guard let workerEndpoint = server.waitForLog(#"workers=(tcp://[0-9.:]+).*\] ready"#) else {
            Issue.record("no worker endpoint in \(server.standardError)")
            return
        }
        // A worker process takes the scoring and protocol-limit options of `medley serve`.
        let worker = RunningProcess(arguments: ["worker", "--connect", workerEndpoint, "--model", model, "--name", "far-away",
                                                "--item-precision", "int8", "--max-id-bytes", "256"])
        try worker.start()
        defer { worker.signal(SIGKILL); _ = worker.wait(timeoutSeconds: 10) }
        #expect(worker.waitForLog("itemTable=(int8)[^\\n]*worker connecting") == "int8", "\(worker.standardError)")
        // The log says which vector kernels this CPU runs.
        #expect(worker.waitForLog("vectorKernel=([a-z0-9-]+)") == VectorKernel.best.rawValue, "\(worker.standardError)")

        var answered: (status: Int32, stdout: String, stderr: String) = (1, "", "")
        for _ in 0..<100 {
            answered = try MedleyExecutable.run(["recommend", "--endpoint", endpoint, "--user", "remote", "--json", "--timeout-milliseconds", "2000"])
            if answered.status == 0 { break }
            usleep(100_000)
        }
        #expect(answered.status == 0, "\(answered.stderr)")
        #expect(try Medley_V1_RecommendReply(jsonString: answered.stdout).domains.count == 3)

        worker.signal(SIGTERM)
        #expect(worker.wait(timeoutSeconds: 20) == 0, "\(worker.standardError)")
        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0, "\(server.standardError)")
    }

    @Test func inspectPrintsAModelAndRefusesACorruptOne() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        let model = try CLIFixtures.writeModel(in: directory)
        let good = try MedleyExecutable.run(["inspect", model])
        #expect(good.status == 0)
        #expect(good.stdout.contains("verification: ok"))
        #expect(good.stdout.contains("item_embeddings") || good.stdout.contains("tensor"))

        var bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        bytes.removeLast(100)
        let corrupt = directory.appendingPathComponent("corrupt.safetensors")
        try bytes.write(to: corrupt)
        let bad = try MedleyExecutable.run(["inspect", corrupt.path])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("FAILED") || bad.stderr.contains("Error"))
    }

    @Test func helpListsEverySubcommandAndBadArgumentsAreRefused() throws {
        let help = try MedleyExecutable.run(["--help"])
        #expect(help.status == 0)
        for command in ["serve", "worker", "send", "recommend", "import", "gen", "train", "eval", "inspect", "bench", "keygen"] {
            #expect(help.stdout.contains("  \(command) "), "help lists \(command)")
        }
        let missing = try MedleyExecutable.run(["serve", "--model", "/nonexistent/model.safetensors"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no model file"))
        let badSend = try MedleyExecutable.run(["send", "--user", "u"])
        #expect(badSend.status != 0)
        #expect(badSend.stderr.contains("--item"))
        for option in ["--sequential-rules", "--domain-list-share"] {
            let badSwitch = try MedleyExecutable.run(["train", "--log", "/nonexistent", option, "maybe"])
            #expect(badSwitch.status != 0)
            #expect(badSwitch.stderr.contains("'maybe' is invalid for '\(option)") && badSwitch.stderr.contains("'on' and 'off'"),
                    "\(badSwitch.stderr)")
        }
    }
}

@Suite("medley bench")
struct BenchCommandTests {
    @Test func benchPrintsItsConditionsAndFigures() throws {
        let run = try MedleyExecutable.run(["bench", "--items", "300", "--dimension", "8", "--batch", "4", "--seconds", "0.2"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("cpu:"))
        #expect(run.stdout.contains("batch   1:"))
        #expect(run.stdout.contains("batch   4:"))
        #expect(run.stdout.contains("queries/s"))
        let bad = try MedleyExecutable.run(["bench", "--batch", "0"])
        #expect(bad.status != 0)
    }
}
