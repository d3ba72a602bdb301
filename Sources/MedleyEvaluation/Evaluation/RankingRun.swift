import Foundation

/// Where a target's rank is counted: a variant (how candidates are chosen) and a segment
/// (which targets). One report row per key.
struct RowKey: Hashable, Sendable {
    var variant: String
    var segment: String
}

/// The shared engine of the evaluations: scores queries in batches on all cores and folds
/// each query's scores into per-row metric sums.
enum RankingRun {
    /// Queries per call of `Scorer.scores(for:)`.
    static let batchSize = 32

    /// Scores every query and calls `record` with its scores, from several threads; `record`
    /// adds ranks to the accumulators it is given (one set per chunk, merged at the end).
    static func run(
        scorer: some Scorer,
        queries: [ScoringQuery],
        cutoffs: [Int],
        record: @Sendable (ScoringQuery, [Float], inout [RowKey: MetricAccumulator]) -> Void
    ) -> [RowKey: MetricAccumulator] {
        let chunks = Parallel.chunkCount(for: queries.count)
        let partial = Parallel.map(chunks) { chunk -> [RowKey: MetricAccumulator] in
            var accumulators: [RowKey: MetricAccumulator] = [:]
            let range = queries.count * chunk / chunks..<queries.count * (chunk + 1) / chunks
            var start = range.lowerBound
            while start < range.upperBound {
                let batch = Array(queries[start..<min(start + batchSize, range.upperBound)])
                let scores = scorer.scores(for: batch)
                precondition(scores.count == batch.count, "\(scorer.name) returned \(scores.count) score lists for \(batch.count) queries")
                for (query, itemScores) in zip(batch, scores) {
                    record(query, itemScores, &accumulators)
                }
                start += batch.count
            }
            return accumulators
        }
        var merged: [RowKey: MetricAccumulator] = [:]
        for accumulators in partial {
            for (key, value) in accumulators {
                merged[key, default: MetricAccumulator(cutoffs: cutoffs)].merge(value)
            }
        }
        return merged
    }

    /// Seconds since `start`, for the report's timing column.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

extension EvaluationReport {
    /// An evaluation's entry point: `body` reads a data set and evaluates it, giving the report
    /// and a description of what was read; the report's conditions gain that description
    /// (`data set`) and the whole run's time, reading included (`total seconds`).
    public static func timed<Failure: Error>(
        _ body: () throws(Failure) -> (report: EvaluationReport, dataDescription: String)
    ) throws(Failure) -> EvaluationReport {
        let start = ContinuousClock.now
        var (report, description) = try body()
        report.conditions["data set"] = description
        report.conditions["total seconds"] = String(format: "%.3f", RankingRun.seconds(since: start))
        return report
    }
}
