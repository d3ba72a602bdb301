import Foundation
import MedleyClient
import MedleyProtocol
import MedleyService
import Synchronization
import Testing
import ZeroMQ

/// Worker processes follow the server's model: a trainer publishes five versions while two
/// `medley worker` processes answer a steady load.
@Suite("medley worker processes follow published models", .serialized)
struct ModelSyncProcessTests {
    /// How long after a publication is printed every reply must come from it (the window
    /// protocol/README.md documents is transfer, verification, warm-up and the swap; this
    /// leaves room for a loaded machine).
    static let swapDeadline: TimeInterval = 4

    struct Answer {
        let sentAt: Date
        let version: UInt64?
        let failure: String?
    }

    @Test func everyReplyAfterTheSwapDeadlineComesFromTheNewVersion() throws {
        let directory = try CLIFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try (1...6).map { try CLIFixtures.writeModel(in: directory, version: UInt64($0)) }

        guard let (publisher, publication, snapshot) = try RunningProcess.publisher(
            ["--delay-milliseconds", "4000", "--interval-milliseconds", "2000"] + files.dropFirst()
        ) else { return }
        defer { publisher.signal(SIGKILL); _ = publisher.wait(timeoutSeconds: 10) }
        guard let (server, endpoint, workerEndpoint) = try RunningProcess.serverForWorkerProcesses(
            model: files[0], in: directory, ["--subscribe", publication, "--snapshot", snapshot]
        ) else { return }
        defer { server.signal(SIGKILL); _ = server.wait(timeoutSeconds: 10) }
        let workers = (0..<2).map {
            RunningProcess(arguments: ["worker", "--connect", workerEndpoint, "--model", files[0], "--name", "far-\($0)", "--heartbeat-milliseconds", "200"])
        }
        for worker in workers { try worker.start() }
        defer { for worker in workers { worker.signal(SIGKILL); _ = worker.wait(timeoutSeconds: 10) } }

        let context = try Context()
        let monitor = try ServiceClient(context: context, endpoint: endpoint)
        var joined = false
        for _ in 0..<100 where !joined {
            joined = (try? monitor.stats().workers.count == 2) ?? false
            if !joined { usleep(100_000) }
        }
        #expect(joined, "both workers joined: \(server.standardError)")

        // The load: two clients, each one request at a time, over 40 users.
        let answers = Mutex<[Answer]>([])
        let running = Atomic<Bool>(true)
        let clients = (0..<2).map { index in
            Thread {
                guard let client = try? ServiceClient(context: context, endpoint: endpoint, timeoutMilliseconds: 5000) else { return }
                var round = 0
                while running.load(ordering: .relaxed) {
                    var request = Medley_V1_RecommendRequest()
                    request.userID = "user-\(index)-\(round % 20)"
                    request.k = 5
                    let sentAt = Date()
                    let answer: Answer
                    do {
                        answer = Answer(sentAt: sentAt, version: try client.recommend(request).modelVersion, failure: nil)
                    } catch {
                        answer = Answer(sentAt: sentAt, version: nil, failure: "\(error)")
                    }
                    answers.withLock { $0.append(answer) }
                    round += 1
                }
            }
        }
        for client in clients { client.start() }

        // When each version was published, as the publisher printed it.
        var publishedAt: [UInt64: Date] = [:]
        let pattern = try NSRegularExpression(pattern: #"published .*: version ([0-9]+)"#)
        let deadline = Date().addingTimeInterval(60)
        while publishedAt.count < 5 && Date() < deadline {
            let text = publisher.standardOutput
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let version = UInt64(text[Range(match.range(at: 1), in: text)!])!
                if publishedAt[version] == nil { publishedAt[version] = Date() }
            }
            usleep(20_000)
        }
        #expect(publishedAt.count == 5, "five publications: \(publisher.standardOutput) \(publisher.standardError)")
        Thread.sleep(forTimeInterval: Self.swapDeadline + 1)
        running.store(false, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.5)

        let all = answers.withLock { $0 }
        #expect(all.count > 100, "the load ran: \(all.count) requests")
        let failures = all.compactMap(\.failure)
        #expect(failures.isEmpty, "no request failed: \(failures.prefix(3))")
        for (version, time) in publishedAt {
            let late = all.filter { $0.sentAt > time.addingTimeInterval(Self.swapDeadline) }
            let stale = late.filter { ($0.version ?? 0) < version }
            #expect(stale.isEmpty, "\(stale.count) of \(late.count) replies sent \(Self.swapDeadline) s after version \(version) was published came from an older version")
        }
        let stats = try monitor.stats()
        #expect(stats.workers.count == 2)
        #expect(stats.workers.allSatisfy { $0.modelVersion == 6 }, "every worker reports the last version: \(stats.workers.map(\.modelVersion))")
        #expect(try monitor.health().status == .serving)

        for worker in workers {
            worker.signal(SIGTERM)
            #expect(worker.wait(timeoutSeconds: 20) == 0, "\(worker.standardError)")
        }
        server.signal(SIGTERM)
        #expect(server.wait(timeoutSeconds: 30) == 0)
    }
}
