import Dispatch
import Foundation
import MedleyModel

/// One head's figures on the validation examples.
public struct TaskMetrics: Sendable, Equatable {
    /// Validation examples the head was measured on.
    public var examples: Int
    /// Mean cross-entropy (full softmax over the head's items; over domains for next-domain).
    public var loss: Double
    /// Item heads: the share of examples whose target ranks in the top K (rank = items scored
    /// above it plus half those tied with it), NDCG@K and MRR@K. Next-domain: accuracy in
    /// `hitRate` (the target domain is the most probable), 0 for the others.
    public var hitRate: Double
    public var ndcg: Double
    public var mrr: Double
}

/// Every trained head's figures on the validation examples, at cutoff K.
public struct ValidationMetrics: Sendable, Equatable {
    public var cutoff: Int
    public var tasks: [Task: TaskMetrics]

    /// The sum of the heads' mean losses (what ``EarlyStopping/Metric/validationLoss`` watches).
    public var totalLoss: Double { tasks.values.reduce(0) { $0 + $1.loss } }
}

/// Measures a model's heads on examples, full ranking over each head's items, in parallel
/// chunks whose sums are combined in chunk order (deterministic).
struct Validator: Sendable {
    let data: TrainingData
    let network: Network
    let cutoff: Int
    /// The chunks' count (the sums depend on it), and how many run at once.
    let threads: Int
    let cores: Int

    func measure(_ examples: [TrainingExample], parameters: ModelParameters, tasks: [Task]) -> ValidationMetrics {
        let c = network.configuration
        let taskCount = c.tasks.count
        let trained = Set(tasks)
        let domainCount = c.domains.count
        final class Partial: @unchecked Sendable {
            // Per task index: examples, loss, hits, ndcg, mrr.
            var sums: [[Double]]
            init(_ taskCount: Int) { sums = Array(repeating: [0, 0, 0, 0, 0], count: taskCount) }
        }
        let chunks = max(1, min(threads, examples.count))
        let partials = (0..<chunks).map { _ in Partial(taskCount) }
        let per = (examples.count + chunks - 1) / max(1, chunks)
        // Scored in groups small enough that the logits stay a few megabytes.
        let group = max(1, min(256, 4_000_000 / max(1, data.catalog.count)))
        let k = Double(cutoff)
        CoreLimitedWork.perform(chunks, cores: cores) { chunk in
            let partial = partials[chunk]
            var softmax = BatchedSoftmax()
            let slice = examples[min(examples.count, chunk * per)..<min(examples.count, (chunk + 1) * per)]
            var start = slice.startIndex
            while start < slice.endIndex {
                let part = slice[start..<min(slice.endIndex, start + group)]
                start = part.endIndex
                let passes = part.map { network.forward(data.encodedInput($0), parameters: parameters) }
                let targets = part.map { data.target($0) }
                func add(_ task: Int, _ members: [Int], rows: Range<Int>, query: (Int) -> [Float]) {
                    guard !members.isEmpty else { return }
                    let results = softmax.lossesAndRanks(
                        queries: members.flatMap(query), targets: members.map { targets[$0].row }, rows: rows,
                        parameters: parameters)
                    for (loss, rank) in results {
                        partial.sums[task][0] += 1
                        partial.sums[task][1] += Double(loss)
                        if rank < k {
                            partial.sums[task][2] += 1
                            partial.sums[task][3] += 1 / log2(rank + 2)
                            partial.sums[task][4] += 1 / (rank + 1)
                        }
                    }
                }
                if trained.contains(.session) {
                    add(domainCount, Array(passes.indices), rows: 0..<data.catalog.count) { passes[$0].sessionQuery }
                }
                for domain in 0..<domainCount where trained.contains(.domain(domain)) {
                    add(domain, passes.indices.filter { targets[$0].domain == domain },
                        rows: data.catalog.domainRanges[domain]) { passes[$0].domainQuery(domain) }
                }
                if trained.contains(.nextDomain) {
                    for (i, pass) in passes.enumerated() {
                        let logits = pass.nextDomainLogits
                        let target = targets[i].domain
                        partial.sums[domainCount + 1][0] += 1
                        partial.sums[domainCount + 1][1] += Double(Softmax.logSumExp(logits) - logits[target])
                        // Accuracy: no other domain strictly more probable (ties go to the target).
                        if !logits.contains(where: { $0 > logits[target] }) { partial.sums[domainCount + 1][2] += 1 }
                    }
                }
            }
        }
        var metrics: [Task: TaskMetrics] = [:]
        for (t, task) in c.tasks.enumerated() where trained.contains(task) {
            var sums = [Double](repeating: 0, count: 5)
            for partial in partials { for j in 0..<5 { sums[j] += partial.sums[t][j] } }
            let n = sums[0]
            guard n > 0 else { continue }
            metrics[task] = TaskMetrics(examples: Int(n), loss: sums[1] / n, hitRate: sums[2] / n,
                                        ndcg: sums[3] / n, mrr: sums[4] / n)
        }
        return ValidationMetrics(cutoff: cutoff, tasks: metrics)
    }
}
