// Load on a real `medley serve` (event log, broker, workers) over tcp loopback: recommend
// throughput and latency with and without dynamic batching, and ingest throughput under two
// sync policies. Prints its conditions first; figures are for comparison on one machine.
//
//   cd Benchmarks && swift run -c release --scratch-path .build-bench ServiceBenchmark [seconds]

import Foundation
import MedleyModel
import MedleyProtocol
import MedleyClient
import MedleyEventLog
import MedleyService
import MedleySystem
import ZeroMQ

let seconds = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 5
let clientThreads = 4
let pipelineDepth = 16
let userCount = 5_000

#if DEBUG
let buildConfiguration = "debug"
#else
let buildConfiguration = "release"
#endif

func conditions() -> String {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
        .trimmingCharacters(in: .whitespaces) ?? "unknown"
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    return """
        cpu: \(cpu), cores: \(ProcessInfo.processInfo.activeProcessorCount), load average: \(load)
        build: \(buildConfiguration), MEDLEY_TARGET_CPU=\(ProcessInfo.processInfo.environment["MEDLEY_TARGET_CPU"] ?? "(unset)")
        load: \(clientThreads) client threads × \(pipelineDepth) requests in flight, \(seconds) s per run, \(userCount) users
        """
}

func makeModel() throws -> MultitaskModel {
    let domains = ["news", "video", "music"]
    let perDomain = 10_000
    var ids: [String] = []
    var domainOfItem: [Int] = []
    for (index, domain) in domains.enumerated() {
        for item in 0..<perDomain {
            ids.append("\(domain)-\(item)")
            domainOfItem.append(index)
        }
    }
    let configuration = ModelConfiguration(modelVersion: 1, domains: domains, embeddingDimension: 64, hiddenDimensions: [128])
    let contents = try ModelFileContents.initialized(
        configuration: configuration,
        catalog: try ItemCatalog(ids: ids, domainOfItem: domainOfItem, domainCount: domains.count),
        users: try UserVocabulary(ids: (0..<userCount).map { "user-\($0)" }), seed: 1)
    return try MultitaskModel(contents)
}

final class Server: @unchecked Sendable {
    let stop = StopSignal()
    let done = DispatchSemaphore(value: 0)
    var endpoint = ""

    init(model: MultitaskModel, configure: (inout ServerConfiguration) -> Void) throws {
        var configuration = ServerConfiguration()
        configuration.broker.clientEndpoints = ["tcp://127.0.0.1:*"]
        configuration.logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("medley-bench-\(UUID().uuidString)").path
        configure(&configuration)
        let server = MedleyServer(configuration: configuration, model: model)
        let ready = DispatchSemaphore(value: 0)
        let box = EndpointBox()
        let stop = stop, done = done
        Thread {
            do {
                try server.run(stop: stop) { client, _ in box.value = client; ready.signal() }
            } catch {
                print("server failed: \(error)")
                ready.signal()
            }
            done.signal()
        }.start()
        ready.wait()
        endpoint = box.value
        usleep(300_000)
    }

    func shutDown() {
        stop.trigger()
        done.wait()
    }
}

final class EndpointBox: @unchecked Sendable {
    var value = ""
}

struct RunResult {
    var completed = 0
    var errors = 0
    var latenciesMicroseconds: [Double] = []
}

final class ResultBox: @unchecked Sendable {
    // Sound: every access holds `lock`.
    private let lock = NSLock()
    private var total = RunResult()

    func add(_ result: RunResult) {
        lock.withLock {
            total.completed += result.completed
            total.errors += result.errors
            total.latenciesMicroseconds += result.latenciesMicroseconds
        }
    }

    var result: RunResult { lock.withLock { total } }
}

/// Each client thread keeps `pipelineDepth` requests in flight for `seconds`.
func drive(endpoint: String, request makeRequest: @escaping @Sendable (Int, inout UInt64) -> Medley_V1_Request) -> (RunResult, Double) {
    let context = try! Context()
    let total = ResultBox()
    let group = DispatchGroup()
    let started = Date()
    for thread in 0..<clientThreads {
        group.enter()
        Thread {
            var result = RunResult()
            let socket = try! context.socket(.dealer)
            try! socket.connect(endpoint)
            var sentAt: [UInt64: UInt64] = [:]
            var nextID: UInt64 = 1
            var counter = thread
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
            func send() {
                var id = nextID
                let request = makeRequest(counter, &id)
                nextID += 1
                counter += clientThreads
                sentAt[request.requestID] = DispatchTime.now().uptimeNanoseconds
                try! socket.send(multipart: [[], try! request.serializedBytes()])
            }
            for _ in 0..<pipelineDepth { send() }
            while !sentAt.isEmpty {
                let frames = try! socket.receiveMultipart()
                let reply = try! Medley_V1_Reply(serializedBytes: frames[1])
                let now = DispatchTime.now().uptimeNanoseconds
                if let start = sentAt.removeValue(forKey: reply.requestID) {
                    result.latenciesMicroseconds.append(Double(now - start) / 1000)
                }
                if case .error = reply.body { result.errors += 1 } else { result.completed += 1 }
                if now < deadline { send() }
            }
            socket.close()
            total.add(result)
            group.leave()
        }.start()
    }
    group.wait()
    let elapsed = Date().timeIntervalSince(started)
    try? context.terminate()
    return (total.result, elapsed)
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
}

func report(_ name: String, _ result: RunResult, _ elapsed: Double) {
    let rate = Double(result.completed) / elapsed
    let label = name.padding(toLength: 44, withPad: " ", startingAt: 0)
    print(label + String(format: " %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms   errors %d", rate,
                 percentile(result.latenciesMicroseconds, 0.5) / 1000,
                 percentile(result.latenciesMicroseconds, 0.99) / 1000, result.errors))
}

func recommendRequest(_ counter: Int, _ id: inout UInt64) -> Medley_V1_Request {
    var request = Medley_V1_Request()
    request.protocolVersion = 1
    request.requestID = id
    request.recommend.userID = "user-\((counter &* 2_654_435_761) % userCount)"
    request.recommend.k = 10
    return request
}

func ingestRequest(_ counter: Int, _ id: inout UInt64) -> Medley_V1_Request {
    var request = Medley_V1_Request()
    request.protocolVersion = 1
    request.requestID = id
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    request.ingest.events = (0..<10).map { offset in
        var event = Medley_V1_SessionEvent()
        event.userID = "user-\((counter &* 31 &+ offset) % userCount)"
        event.itemID = "music-\((counter &+ offset) % 10_000)"
        event.domain = "music"
        event.type = .play
        event.timestampMs = now
        return event
    }
    return request
}

print("Medley service benchmark\n\(conditions())\n")
let model = try makeModel()
for (label, maxBatch) in [("recommend, no batching (max batch 1)", 1), ("recommend, dynamic batching (max batch 32)", 32)] {
    let server = try Server(model: model) { configuration in
        configuration.worker.maxBatchSize = maxBatch
        configuration.worker.maxBatchDelayMicroseconds = 500
    }
    // Warm sessions: five events for a fifth of the users.
    _ = drive(endpoint: server.endpoint, request: ingestRequest)
    let (result, elapsed) = drive(endpoint: server.endpoint, request: recommendRequest)
    report(label, result, elapsed)
    server.shutDown()
}
for (label, policy) in [("ingest 10 events/request, sync always", EventLogConfiguration.SyncPolicy.always),
                        ("ingest 10 events/request, sync interval:5", .interval(milliseconds: 5))] {
    let server = try Server(model: model) { $0.eventLog.syncPolicy = policy }
    let (result, elapsed) = drive(endpoint: server.endpoint, request: ingestRequest)
    report(label, result, elapsed)
    server.shutDown()
}
