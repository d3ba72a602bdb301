// Training speed on a synthetic stream of MovieLens-1M's size: one epoch (by default) of the
// default model, timed, with the trainer's own summary. See docs/training.md.
//
//   swift build -c release --scratch-path .build-bench && .build-bench/release/TrainingBenchmark [epochs] [dimension]
import Foundation
import MedleyModel
import MedleyProtocol
import MedleySystem
import MedleyTraining

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let epochs = arguments.count > 0 ? arguments[0] : 1
let dimension = arguments.count > 1 ? arguments[1] : 32

// MovieLens-1M's shape: 6,040 users, 3,706 items, 1,000,209 events. Items are split over
// three domains; each user likes one of 20 clusters (in every domain), and each session of
// 5 to 40 events a minute apart sticks to one domain, with 20% of its items random.
let users = 6_040
let domainSizes = [("news", 1_000), ("video", 1_500), ("music", 1_206)]
let clusters = 20
let targetEvents = 1_000_209
let perUser = targetEvents / users
let types: [Medley_V1_EventType] = [.view, .view, .view, .click, .play, .complete, .like, .skip]

/// The stream in log order: user by user, each in time order (deterministic).
func makeStream() -> [Medley_V1_SessionEvent] {
    var rng = SplitMix64(seed: 2024)
    func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    var stream: [Medley_V1_SessionEvent] = []
    stream.reserveCapacity(targetEvents)
    for u in 0..<users {
        let cluster = pick(clusters)
        let count = perUser + (u < targetEvents % users ? 1 : 0)
        var made = 0
        var time: Int64 = 978_300_000_000 + Int64(pick(86_400)) * 1000
        while made < count {
            let (domain, size) = domainSizes[pick(domainSizes.count)]
            let length = min(count - made, 5 + pick(36))
            for _ in 0..<length {
                let itemCluster = pick(5) == 0 ? pick(clusters) : cluster
                let perCluster = size / clusters
                // Squaring a uniform draw skews each cluster's popularity towards its first items.
                let r = Double(pick(1 << 20)) / Double(1 << 20)
                let index = min(size - 1, itemCluster * perCluster + Int(r * r * Double(perCluster)))
                var event = Medley_V1_SessionEvent()
                event.userID = "u\(u)"
                event.domain = domain
                event.itemID = "\(domain)-\(index)"
                event.type = types[pick(types.count)]
                event.timestampMs = time
                stream.append(event)
                time += 60_000
                made += 1
            }
            time += Int64(1 + pick(72)) * 3_600_000
        }
    }
    return stream
}

let generationStart = Date()
let stream = makeStream()
print("stream: \(stream.count) events, \(users) users, generated in \(String(format: "%.1f", Date().timeIntervalSince(generationStart))) s")

var configuration = TrainingConfiguration(epochs: epochs)
configuration.model.embeddingDimension = dimension
configuration.progressIntervalSeconds = 30
print("configuration: d = \(dimension), encoder \(configuration.model.hiddenDimensions), batch \(configuration.batchSize), "
    + "threads \(configuration.threads), epochs \(epochs), \(ProcessInfo.processInfo.activeProcessorCount) cores")

let preparationStart = Date()
let data = try TrainingData(events: stream, configuration: configuration)
print("prepared in \(String(format: "%.1f", Date().timeIntervalSince(preparationStart))) s")

let result = try Trainer(configuration: configuration).train(data, modelVersion: 1) { progress in
    if case .batches(let b) = progress {
        print("epoch \(b.epoch) batch \(b.batch)/\(b.batches): \(Int(b.examplesPerSecond)) examples/s, session loss "
            + String(format: "%.3f", b.taskLosses[.session] ?? .nan))
    }
}
print(result.summary)
let directory = FileManager.default.temporaryDirectory
let url = directory.appendingPathComponent("medley-training-benchmark.safetensors")
let writeStart = Date()
try result.write(to: url)
print("wrote \(url.path) in \(String(format: "%.2f", Date().timeIntervalSince(writeStart))) s")
try? FileManager.default.removeItem(at: url)
