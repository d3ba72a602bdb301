import Foundation

/// The result of an evaluation run: one row per method, variant and segment, with the
/// conditions needed to reproduce it. Written as a terminal table and as JSON.
public struct EvaluationReport: Codable, Sendable, Equatable {
    /// What was evaluated, e.g. "published protocol, ml-1m".
    public var title: String
    /// The conditions: data set, filtering, split, counts, history length, machine...
    public var conditions: [String: String]
    /// The cutoffs K of the metrics.
    public var cutoffs: [Int]
    /// The results.
    public var rows: [Row]

    /// One method on one segment of the targets.
    public struct Row: Codable, Sendable, Equatable {
        /// The scorer's name.
        public var method: String
        /// How candidates were chosen, e.g. "all items" or "seen excluded".
        public var variant: String
        /// Which targets: "all", a domain name, or "cold:<domain>" (see the evaluation).
        public var segment: String
        /// The number of targets (users, or events) averaged over.
        public var targets: Int
        /// Metric means, keyed `HR@K`, `NDCG@K`, `MRR@K`.
        public var metrics: [String: Double]
        /// Wall-clock seconds spent fitting and scoring this method (all its rows together).
        public var seconds: Double

        public init(method: String, variant: String, segment: String, targets: Int, metrics: [String: Double], seconds: Double) {
            self.method = method
            self.variant = variant
            self.segment = segment
            self.targets = targets
            self.metrics = metrics
            self.seconds = seconds
        }
    }

    public init(title: String, conditions: [String: String], cutoffs: [Int], rows: [Row]) {
        self.title = title
        self.conditions = conditions
        self.cutoffs = cutoffs
        self.rows = rows
    }

    /// The metric names in column order: for each cutoff, HR, NDCG and MRR.
    public var metricNames: [String] {
        cutoffs.flatMap { ["HR@\($0)", "NDCG@\($0)", "MRR@\($0)"] }
    }

    /// A fixed-width table for a terminal, with the conditions above it.
    public func table(metrics: [String]? = nil) -> String {
        let metrics = metrics ?? metricNames
        var lines = [title]
        for key in conditions.keys.sorted() { lines.append("  \(key): \(conditions[key]!)") }
        let header = ["method", "variant", "segment", "targets"] + metrics + ["seconds"]
        var cells = [header]
        for row in rows {
            cells.append([row.method, row.variant, row.segment, String(row.targets)]
                + metrics.map { row.metrics[$0].map { String(format: "%.4f", $0) } ?? "-" }
                + [String(format: "%.1f", row.seconds)])
        }
        let widths = header.indices.map { c in cells.map { $0[c].count }.max() ?? 0 }
        for (r, row) in cells.enumerated() {
            let padded = row.enumerated().map { c, text in
                // Text columns left-aligned, numbers right-aligned.
                c < 3 ? text.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                      : String(repeating: " ", count: widths[c] - text.count) + text
            }
            lines.append(padded.joined(separator: "  "))
            if r == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Pretty-printed JSON with sorted keys, so that reports diff cleanly.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a report written by ``json()``.
    public static func decode(_ data: Data) throws -> EvaluationReport {
        try JSONDecoder().decode(EvaluationReport.self, from: data)
    }
}
