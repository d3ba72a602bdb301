import Foundation
import MedleyEventLog
import MedleyProtocol

// What a durable append costs the event log alone, without the service around it: one thread
// appends a batch of events and syncs (`--sync always`, one group per batch), for a few
// seconds, with the writer's zeros written ahead (`preallocationBytes`, the default) and
// without, alternated round by round in fresh logs in one directory (BENCH_DIRECTORY, default
// the system's temporary directory; the file system is what is measured). Prints the conditions
// first, then per round: syncs per second and the sync's mean, median and 99th percentile.

let environment = ProcessInfo.processInfo.environment
let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 3
let seconds = Double(environment["BENCH_SECONDS"] ?? "") ?? 4
let eventsPerBatch = Int(environment["BENCH_EVENTS"] ?? "") ?? 10
let base = environment["BENCH_DIRECTORY"] ?? NSTemporaryDirectory()

let events = (0..<eventsPerBatch).map { index in
    Medley_V1_SessionEvent.with {
        $0.userID = "bench-user-\(index % 7)"
        $0.itemID = "video-\(1000 + index)"
        $0.domain = "video"
        $0.type = .play
        $0.timestampMs = 1_764_374_400_000 + Int64(index)
    }
}

func run(preallocation: Int) throws -> String {
    let directory = (base as NSString).appendingPathComponent("medley-eventlog-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var configuration = EventLogConfiguration(syncPolicy: .always)
    configuration.preallocationBytes = preallocation
    let writer = try EventLogWriter(directory: directory, configuration: configuration)
    var durations: [Double] = []
    let start = DispatchTime.now().uptimeNanoseconds
    let end = start + UInt64(seconds * 1e9)
    var received: Int64 = 0
    while DispatchTime.now().uptimeNanoseconds < end {
        _ = try writer.append(events, receivedAtMs: received)
        received += 1
        let before = DispatchTime.now().uptimeNanoseconds
        try writer.sync()
        durations.append(Double(DispatchTime.now().uptimeNanoseconds - before) / 1e6)
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    try writer.close()
    durations.sort()
    let mean = durations.reduce(0, +) / Double(durations.count)
    return String(format: "%8.0f syncs/s  %9.0f events/s  sync mean %.3f ms  p50 %.3f ms  p99 %.3f ms",
                  Double(durations.count) / elapsed, Double(durations.count * eventsPerBatch) / elapsed,
                  mean, durations[durations.count / 2], durations[durations.count * 99 / 100])
}

let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
print("event log: \(eventsPerBatch) events a batch, one sync each, \(seconds) s a run, directory \(base), load average \(load)")
for round in 1...rounds {
    for (label, bytes) in [("no zeros ahead", 0), ("4 MiB ahead", 4 << 20)] {
        print("round \(round)  \(label.padding(toLength: 15, withPad: " ", startingAt: 0))  \(try run(preallocation: bytes))")
    }
}
