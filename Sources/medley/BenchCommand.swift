import ArgumentParser
import Foundation
import MedleyModel
import MedleySystem

/// `medley bench`: speed measurements. `bench model` (the default) times the model in process,
/// `bench load` drives a running server over the protocol, `bench write-model` writes the
/// seeded model both use to a file, so that other servers can load the same weights.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure recommendation speed: in process, or a running server under load.",
        subcommands: [BenchModelCommand.self, BenchLoadCommand.self, BenchWriteModelCommand.self],
        defaultSubcommand: BenchModelCommand.self
    )
}

struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Measure the model's recommendation speed on this machine.",
        discussion: """
            Runs the serving path of a worker (encode the session, one forward pass, score every \
            item of every head, top-K) on a model file or on a model of the given size with \
            seeded weights, one request at a time and in batches, and prints queries per second \
            and per-call latency with the conditions it ran under (CPU, build, BLAS threads), so \
            that figures from different machines compare as ratios. The Benchmarks package \
            measures the kernels, training, the service under load and hot reload.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "A model file to measure; default: a seeded model of --items and --dimension.")
    var model: String?
    @OptionGroup var seeded: SeededModelOptions
    @OptionGroup var scoring: ScoringOptions
    @Option(help: "Requests per batch in the batched run.") var batch: Int = 32
    @Option(help: "Items per list.") var k: Int = 10
    @Option(help: "Seconds per run.") var seconds: Double = 3
    @Option(help: "With bfloat16 or an index: requests whose lists are compared with exact float32 scoring.")
    var agreementRequests: Int = 2000
    @Option(help: "Events in each request's session.") var sessionEvents: Int = 5
    @OptionGroup var sessionEncoder: SessionEncoderOptions

    func validate() throws {
        guard batch > 0, k > 0, seconds > 0, sessionEvents > 0 else {
            throw ValidationError("--batch, -k, --seconds and --session-events must be positive")
        }
        if let model, !FileManager.default.fileExists(atPath: model) { throw ValidationError("no model file at \(model)") }
    }

    func run() throws {
        global.bootstrapLogging()
        BLASThreads.set(1)
        let loadStart = ContinuousClock.now
        let scored = try model.map { try loadServingModel($0, itemPrecision: scoring.itemPrecision, index: scoring.itemIndex) }
            ?? seeded.model(itemPrecision: scoring.itemPrecision, index: scoring.itemIndex,
                            sessionEncoder: try sessionEncoder.shape(default: nil))
        let loadTime = ContinuousClock.now - loadStart
        var random = SplitMix64(seed: 7)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let inputs = try sessionInputs(max(batch, 64), model: scored, random: &random, now: now)
        print(BenchConditions.describe(model: scored, source: model ?? "seeded weights"))
        print("model ready (read or seeded, tables and index built) in \(loadTime)")
        let options = RecommendationOptions(perDomain: k, session: k, blended: k)
        if scored.itemPrecision != .float32 || scored.index != .exact {
            let exact = try MultitaskModel(scored.contents, itemPrecision: .float32)
            let checked = try sessionInputs(agreementRequests, model: scored, random: &random, now: now)
            print(ListAgreement.measure(reduced: scored, exact: exact, inputs: checked, options: options, batch: batch))
        }
        for size in Array(Set([1, batch])).sorted() {
            var latencies: [Double] = []
            var queries = 0
            let clock = ContinuousClock()
            let start = clock.now
            var next = 0
            while clock.now - start < .seconds(seconds) {
                let slice = (0..<size).map { inputs[(next + $0) % inputs.count] }
                next += size
                let callStart = clock.now
                _ = scored.recommend(slice, options: options)
                latencies.append(Double((clock.now - callStart).components.attoseconds) / 1e12 + Double((clock.now - callStart).components.seconds) * 1e6)
                queries += size
            }
            let elapsed = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
            latencies.sort()
            let p50 = latencies[latencies.count / 2] / 1000
            let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))] / 1000
            print(String(format: "batch %3d: %8.0f queries/s   per call p50 %7.2f ms   p99 %7.2f ms   (%d calls)", size, Double(queries) / elapsed, p50, p99, latencies.count))
        }
    }
}

extension BenchModelCommand {
    /// Inputs with sessions of `--session-events` random items each.
    private func sessionInputs(_ count: Int, model: MultitaskModel, random: inout SplitMix64, now: Int64) throws -> [EncodedInput] {
        let catalog = model.catalog
        return try (0..<count).map { _ -> EncodedInput in
            let events = (0..<sessionEvents).map { offset -> SessionEvent in
                let row = Int(random.next() % UInt64(catalog.count))
                let item = ItemReference(domain: model.configuration.domains[catalog.domainOfItem[row]], id: catalog.ids[row])
                return SessionEvent(item: item, type: .play, timestampMilliseconds: now - Int64(offset) * 60_000)
            }
            return try model.encode(ModelInput(userID: nil, events: events, context: ContextFeatures.encode(timestampMilliseconds: now)))
        }
    }
}

/// The conditions a benchmark ran under, printed before its figures.
enum BenchConditions {
    static func describe(model: MultitaskModel, source: String) -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        #if DEBUG
        let build = "debug (use -c release for real figures)"
        #else
        let build = "release"
        #endif
        return """
            model: \(source), \(model.catalog.count) items, d = \(model.configuration.embeddingDimension), session encoder \(
                model.configuration.sessionEncoder.map(\.summary) ?? "none")
            cpu: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(load)
            build: \(build); OpenBLAS threads: 1; item table: \(model.itemPrecision); index: \(model.index); vector kernels: \(
                VectorKernel.best.rawValue)
            """
    }
}
