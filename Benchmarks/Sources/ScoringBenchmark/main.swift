import Foundation
import MedleyModel
import MedleySystem

// Scores one query and a batch of 64 against 50,000 items of dimension 64 with each kernel,
// and measures top-K against the scoring it follows. Prints the conditions first so that a
// recorded result says what it ran under.

let itemCount = 50_000
let dimension = 64
let batch = 64
let repetitions = Int(ProcessInfo.processInfo.environment["BENCH_REPETITIONS"] ?? "") ?? 30

func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
    let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
    return line.map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
}

func cpuFlags() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return "unknown" }
    let flags = Set(line.split(separator: " ").map(String.init))
    return ["avx2", "fma", "avx512f"].filter { flags.contains($0) }.joined(separator: " ")
}

/// Median and minimum wall time of `body`, in seconds, after one warm-up call.
func measure(_ body: () -> Void) -> (median: Double, min: Double) {
    body()
    var times: [Double] = []
    for _ in 0..<repetitions {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    times.sort()
    return (times[times.count / 2], times[0])
}

func report(_ name: String, queries: Int, _ t: (median: Double, min: Double)) {
    let flops = 2.0 * Double(queries) * Double(itemCount) * Double(dimension)
    let padded = name.count < 44 ? name + String(repeating: " ", count: 44 - name.count) : name
    let line = String(format: "%@ %9.3f ms median  %9.3f ms min  %8.1f µs/query  %6.1f GFLOP/s",
                      padded as NSString, t.median * 1e3, t.min * 1e3, t.median * 1e6 / Double(queries), flops / t.median / 1e9)
    print(line)
}

let env = ProcessInfo.processInfo.environment
#if DEBUG
let configuration = "debug"
#else
let configuration = "release"
#endif
print("conditions:")
print("  cpu: \(cpuModel()) (\(cpuFlags())), \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("  MEDLEY_TARGET_CPU at build: \(env["MEDLEY_TARGET_CPU"] ?? "unset (baseline x86-64)")  fused multiply-add in SIMD kernels: \(ScoringKernels.usesFusedMultiplyAdd)")
print("  OPENBLAS_NUM_THREADS: \(env["OPENBLAS_NUM_THREADS"] ?? "unset")  OpenBLAS threads in use: \(BLASThreads.count)")
print("  build: \(configuration)  items: \(itemCount) × \(dimension) float32  batch: \(batch)  repetitions: \(repetitions)")
print("  load average: \((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?")")

var rng = SplitMix64(seed: 42)
let items = (0..<(itemCount * dimension)).map { _ in Float.random(in: -1...1, using: &rng) }
let biases = (0..<itemCount).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
let queries = (0..<(batch * dimension)).map { _ in Float.random(in: -1...1, using: &rng) }
var out = [Float](repeating: 0, count: batch * itemCount)

typealias Kernel = (UnsafeBufferPointer<Float>, Int, UnsafeBufferPointer<Float>, Int, Int, UnsafeMutableBufferPointer<Float>) -> Void
let kernels: [(String, Kernel)] = [
    ("SIMD Swift", { ScoringKernels.simdScores(queries: $0, queryCount: $1, items: $2, itemCount: $3, dimension: $4, into: $5) }),
    ("OpenBLAS (sgemv for 1, sgemm for batch)", { ScoringKernels.blasScores(queries: $0, queryCount: $1, items: $2, itemCount: $3, dimension: $4, into: $5) }),
    ("OpenBLAS sgemm", { ScoringKernels.blasGEMMScores(queries: $0, queryCount: $1, items: $2, itemCount: $3, dimension: $4, into: $5) }),
]

@MainActor func score(_ kernel: Kernel, queryCount: Int) {
    queries.withUnsafeBufferPointer { q in
        items.withUnsafeBufferPointer { e in
            out.withUnsafeMutableBufferPointer { o in
                kernel(q, queryCount, e, itemCount, dimension, o)
            }
        }
    }
}

// Agreement check: every kernel computes the same scores (to float rounding).
var reference: [Float] = []
for (name, kernel) in kernels {
    score(kernel, queryCount: batch)
    let result = Array(out.prefix(batch * itemCount))
    if reference.isEmpty { reference = result; continue }
    let maxError = zip(reference, result).map { abs($0 - $1) }.max() ?? 0
    if maxError > 1e-3 { print("MISMATCH: \(name) differs from SIMD by \(maxError)") }
}

print("\nscoring (\(itemCount) items × \(dimension)):")
var results: [String: Double] = [:]
for queryCount in [1, batch] {
    for (name, kernel) in kernels {
        let t = measure { score(kernel, queryCount: queryCount) }
        report("\(name), \(queryCount == 1 ? "1 query" : "\(queryCount) queries")", queries: queryCount, t)
        results["\(name)/\(queryCount)"] = t.median
    }
}

print("\ntop-K over precomputed scores (same \(itemCount) items):")
for k in [10, 100] {
    for queryCount in [1, batch] {
        let t = measure {
            out.withUnsafeBufferPointer { o in
                for b in 0..<queryCount {
                    var acc = TopKAccumulator(capacity: k)
                    acc.offer(scores: UnsafeBufferPointer(rebasing: o[(b * itemCount)..<((b + 1) * itemCount)]),
                              firstIndex: 0, excluding: [])
                    _ = acc.sorted()
                }
            }
        }
        print(String(format: "top-%-3d %2d quer%@  %9.3f ms median  %8.1f µs/query",
                     k, queryCount, (queryCount == 1 ? "y  " : "ies") as NSString, t.median * 1e3, t.median * 1e6 / Double(queryCount)))
    }
}

print("\nend to end: ItemScorer.topK(k: 10) over all items, bias added, 20 excluded per query:")
let exclusions = (0..<batch).map { b in Set((0..<20).map { ($0 * 997 + b) % itemCount }) }
for backend in [ScoringBackend.simd, .blas] {
    let scorer = ItemScorer(backend: backend)
    for queryCount in [1, batch] {
        let q = Array(queries.prefix(queryCount * dimension))
        let t = measure {
            _ = scorer.topK(queries: q, queryCount: queryCount, dimension: dimension, embeddings: items, biases: biases,
                            rows: 0..<itemCount, k: 10, excluding: Array(exclusions.prefix(queryCount)))
        }
        report("ItemScorer \(backend), \(queryCount == 1 ? "1 query" : "\(queryCount) queries")", queries: queryCount, t)
    }
}

// Two worker threads scoring at once, as the service's workers do on a 2-core machine: the
// question is whether OpenBLAS's own threads help or fight them.
print("\ntwo concurrent workers, each scoring 20 batches of 64 with ItemScorer.topK(k: 10):")
let queriesForWorkers = queries
let itemsForWorkers = items
let biasesForWorkers = biases
for backend in [ScoringBackend.simd, .blas] {
    let start = DispatchTime.now().uptimeNanoseconds
    DispatchQueue.concurrentPerform(iterations: 2) { _ in
        let scorer = ItemScorer(backend: backend)
        for _ in 0..<20 {
            _ = scorer.topK(queries: queriesForWorkers, queryCount: batch, dimension: dimension, embeddings: itemsForWorkers,
                            biases: biasesForWorkers, rows: 0..<itemCount, k: 10)
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(String(format: "%@ %9.1f ms for 2 × 20 batches  %8.0f queries/s",
                 ("ItemScorer " + backend.description).padding(toLength: 44, withPad: " ", startingAt: 0) as NSString,
                 seconds * 1e3, Double(2 * 20 * batch) / seconds))
}

print("\nratios (median time, higher = first is slower):")
@MainActor func ratio(_ a: String, _ b: String) -> String {
    guard let x = results[a], let y = results[b] else { return "?" }
    return String(format: "%.2f", x / y)
}
print("  1 query:  SIMD / sgemv = \(ratio("SIMD Swift/1", "OpenBLAS (sgemv for 1, sgemm for batch)/1"))   sgemm / sgemv = \(ratio("OpenBLAS sgemm/1", "OpenBLAS (sgemv for 1, sgemm for batch)/1"))")
print("  64 queries: SIMD / sgemm = \(ratio("SIMD Swift/64", "OpenBLAS sgemm/64"))")
