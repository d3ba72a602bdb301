import Foundation
import MedleyModel
import MedleyProtocol
import MedleyClient
import MedleyEventLog
import MedleyModelDistribution
import MedleyService
import MedleySystem
import Synchronization
import ZeroMQ

// Hot reload: (1) resident memory over 100 swaps of a same-sized model, through the same
// installer `medley serve` uses; (2) a real server on loopback with clients asking without
// pause while a publisher publishes new versions: the time from publish to the first reply
// from the new version, and request latency during swaps against steady state. Prints its
// conditions first.

let env = ProcessInfo.processInfo.environment
func setting(_ name: String, _ fallback: Int) -> Int { env[name].flatMap(Int.init) ?? fallback }
let itemCount = setting("BENCH_ITEMS", 50_000)
let dimension = setting("BENCH_DIMENSION", 32)
let memorySwaps = setting("BENCH_SWAPS", 100)
let clientCount = setting("BENCH_CLIENTS", 2)
let publications = setting("BENCH_PUBLICATIONS", 20)
let intervalMilliseconds = setting("BENCH_INTERVAL_MS", 500)
let steadySeconds = setting("BENCH_STEADY_SECONDS", 10)

// MARK: Conditions

func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
    let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
    return line.map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
}

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e3 + Double(attoseconds) / 1e15
}
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

#if DEBUG
let build = "debug"
#else
let build = "release"
#endif

func contents(version: UInt64) throws -> ModelFileContents {
    let domains = ["news", "video", "music"]
    var ids: [String] = []
    var domainOfItem: [Int] = []
    for index in 0..<itemCount {
        let domain = index * domains.count / itemCount
        ids.append("\(domains[domain].prefix(1))\(index)")
        domainOfItem.append(domain)
    }
    let configuration = ModelConfiguration(modelVersion: version, domains: domains, embeddingDimension: dimension, hiddenDimensions: [64])
    let users = try UserVocabulary(ids: (0..<1000).map { "user-\($0)" })
    return try ModelFileContents.initialized(
        configuration: configuration, catalog: try ItemCatalog(ids: ids, domainOfItem: domainOfItem, domainCount: domains.count),
        users: users, seed: version)
}

let template = try contents(version: 1)
let modelBytes = ModelFile.encode(template).count
print("""
    hot-reload benchmark
      cpu: \(cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; load average at start \(loadAverage())
      build: \(build); model: \(itemCount) items x \(dimension) dims, hidden [64], 1,000 users, \(megabytes(modelBytes)) file
      warm-up: \(ModelUpdateConfiguration().warmUpPasses) passes per new model
    """)

/// The template under another version: the same size, different bytes.
func publication(version: UInt64, seed: UInt64) throws -> ModelPublication {
    var model = template
    model.configuration.modelVersion = version
    // A few weights differ by seed, so that each version is a different file.
    model.parameters.tensors[ParameterLayout.itemBias]!.scalars[Int(seed % UInt64(itemCount))] += Float(seed % 97) / 1000
    return try ModelPublication(contents: model, signingKey: nil)
}

// MARK: 1. Resident memory over repeated swaps

do {
    let installer = ModelInstaller(models: ServingModel(), modelDirectory: nil)
    var marks: [(swaps: Int, resident: Int)] = []
    var installTimes: [Double] = []
    for version in UInt64(1)...UInt64(memorySwaps + 1) {
        let next = try publication(version: version, seed: version)
        let started = ContinuousClock.now
        try installer.install(next, source: "benchmark")
        installTimes.append(milliseconds(started.duration(to: .now)))
        let swaps = Int(version) - 1
        if [1, 10, 50, memorySwaps].contains(swaps) { marks.append((swaps, residentBytes())) }
    }
    installTimes.sort()
    print("\n1. resident memory, \(memorySwaps) swaps of the same-sized model (installer only, one thread)")
    for mark in marks {
        print("   after \(mark.swaps) swap(s): \(megabytes(mark.resident))  (\(String(format: "%+.1f%%", (Double(mark.resident) / Double(marks[0].resident) - 1) * 100)) against after the first)")
    }
    let growth = Double(marks.last!.resident) / Double(marks[0].resident) - 1
    print("   after \(memorySwaps) swaps within 10% of after the first: \(growth <= 0.10 ? "yes" : "NO")")
    print(String(format: "   verify + warm-up + swap per model: median %.1f ms, p90 %.1f ms", percentile(installTimes, 0.5), percentile(installTimes, 0.9)))
}

// MARK: 2. Publish to first reply, and latency during swaps

/// Client threads asking without pause; they record every request's start, latency and version.
final class Clients: Sendable {
    struct Sample {
        let start: ContinuousClock.Instant
        let milliseconds: Double
        let version: UInt64
    }

    private struct State {
        var stopping = false
        var samples: [Sample] = []
        var firstSeen: [UInt64: ContinuousClock.Instant] = [:]
        var failures: [String] = []
    }

    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)
    let count: Int

    init(count: Int, endpoint: String, context: Context) {
        self.count = count
        for index in 0..<count {
            Thread { [self] in
                run(index, endpoint: endpoint, context: context)
                done.signal()
            }.start()
        }
    }

    private func run(_ index: Int, endpoint: String, context: Context) {
        do {
            let client = try ServiceClient(context: context, endpoint: endpoint, timeoutMilliseconds: 10_000)
            var request = Medley_V1_RecommendRequest()
            var local: [Sample] = []
            var user = 0
            var lastVersion: UInt64 = 0
            while !state.withLock({ $0.stopping }) {
                // Users with and without a learned vector.
                request.userID = "user-\((index * 7919 + user) % 2000)"
                user += 1
                let start = ContinuousClock.now
                let reply = try client.recommend(request)
                let end = ContinuousClock.now
                local.append(Sample(start: start, milliseconds: milliseconds(start.duration(to: end)), version: reply.modelVersion))
                if reply.modelVersion != lastVersion {
                    lastVersion = reply.modelVersion
                    state.withLock { state in
                        if state.firstSeen[reply.modelVersion] == nil { state.firstSeen[reply.modelVersion] = end }
                    }
                }
            }
            state.withLock { $0.samples += local }
        } catch {
            state.withLock { $0.failures.append("client \(index): \(error)") }
        }
    }

    func firstSeen(_ version: UInt64) -> ContinuousClock.Instant? {
        state.withLock { $0.firstSeen[version] }
    }

    func stop() -> (samples: [Sample], failures: [String]) {
        state.withLock { $0.stopping = true }
        for _ in 0..<count { done.wait() }
        return state.withLock { ($0.samples, $0.failures) }
    }
}

do {
    let publisher = try ModelPublisher(configuration: ModelPublisherConfiguration(
        publicationEndpoint: "tcp://127.0.0.1:*", snapshotEndpoint: "tcp://127.0.0.1:*"))
    defer { publisher.close() }
    let logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("medley-hotreload-bench-\(UUID().uuidString)").path
    var configuration = ServerConfiguration()
    configuration.broker.clientEndpoints = ["tcp://127.0.0.1:*"]
    configuration.workerCount = 2
    configuration.logDirectory = logDirectory
    configuration.modelUpdates.subscription = .init(publicationEndpoint: publisher.boundPublicationEndpoint, snapshotEndpoint: publisher.boundSnapshotEndpoint)
    let server = MedleyServer(configuration: configuration, model: try MultitaskModel(template))
    let stop = StopSignal()
    let ready = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)
    let endpoint = Mutex("")
    Thread {
        do {
            try server.run(stop: stop) { client, _ in
                endpoint.withLock { $0 = client }
                ready.signal()
            }
        } catch {
            print("server failed: \(error)")
            ready.signal()
        }
        finished.signal()
    }.start()
    ready.wait()
    let context = try Context()
    let clientEndpoint = endpoint.withLock { $0 }
    let probe = try ServiceClient(context: context, endpoint: clientEndpoint)
    while (try? probe.health().status) != .serving { usleep(10_000) }

    // Prepared before timing: publishing starts from bytes the trainer already has.
    let prepared = try (0..<publications).map { try publication(version: UInt64($0 + 2), seed: UInt64($0 + 2)) }
    let clients = Clients(count: clientCount, endpoint: clientEndpoint, context: context)
    // A second of warm-up, then the steady window.
    usleep(1_000_000)
    let steadyStart = ContinuousClock.now
    usleep(UInt32(steadySeconds * 1_000_000))
    let swapStart = ContinuousClock.now
    var toFirstReply: [Double] = []
    for next in prepared {
        let version = next.announcement.version
        let published = ContinuousClock.now
        try publisher.publish(next)
        while clients.firstSeen(version) == nil { usleep(200) }
        toFirstReply.append(milliseconds(published.duration(to: clients.firstSeen(version)!)))
        usleep(UInt32(intervalMilliseconds * 1000))
    }
    let swapEnd = ContinuousClock.now
    let (samples, failures) = clients.stop()
    let stats = try probe.stats()
    stop.trigger()
    finished.wait()
    try? FileManager.default.removeItem(atPath: logDirectory)

    func latencies(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> [Double] {
        samples.filter { $0.start >= start && $0.start < end }.map(\.milliseconds).sorted()
    }
    let steady = latencies(from: steadyStart, to: swapStart)
    let swapping = latencies(from: swapStart, to: swapEnd)
    toFirstReply.sort()
    print("""

        2. live server: \(clientCount) clients asking back to back (k = 10, all domains), 2 workers, \(publications) publications \(intervalMilliseconds) ms apart
           publish → first reply from the new version: median \(String(format: "%.1f", percentile(toFirstReply, 0.5))) ms, p90 \(String(format: "%.1f", percentile(toFirstReply, 0.9))) ms, max \(String(format: "%.1f", toFirstReply.last ?? .nan)) ms
           steady state (\(steadySeconds) s, \(steady.count) requests): p50 \(String(format: "%.2f", percentile(steady, 0.5))) ms, p99 \(String(format: "%.2f", percentile(steady, 0.99))) ms, max \(String(format: "%.2f", steady.last ?? .nan)) ms
           during swaps (\(String(format: "%.1f", milliseconds(swapStart.duration(to: swapEnd)) / 1000)) s, \(swapping.count) requests): p50 \(String(format: "%.2f", percentile(swapping, 0.5))) ms, p99 \(String(format: "%.2f", percentile(swapping, 0.99))) ms, max \(String(format: "%.2f", swapping.last ?? .nan)) ms
           failed requests: \(failures.count)\(failures.isEmpty ? "" : " \(failures)"); models installed \(stats.modelsInstalled), rejected \(stats.modelsRejected); serving version \(stats.modelVersion)
           load average at end \(loadAverage())
        """)
}
