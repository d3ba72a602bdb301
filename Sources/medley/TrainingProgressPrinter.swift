import Foundation
import MedleyModel
import MedleyTraining

/// Prints the trainer's progress to standard error, one line per report.
enum TrainingProgressPrinter {
    static func print(_ progress: TrainingProgress, domains: [String]) {
        func name(_ task: Task) -> String {
            switch task {
            case .domain(let index): index < domains.count ? domains[index] : "domain \(index)"
            case .session: "session"
            case .nextDomain: "next domain"
            }
        }
        let line: String
        switch progress {
        case .started(let statistics, let parameterCount):
            line = "training on \(statistics.trainingExamples) examples (\(statistics.validationExamples) for validation), \(parameterCount) parameters"
        case .batches(let batches):
            let losses = batches.taskLosses.sorted { name($0.key) < name($1.key) }.map { "\(name($0.key)) \(String(format: "%.3f", $0.value))" }
            line = "epoch \(batches.epoch) batch \(batches.batch)/\(batches.batches): \(Int(batches.examplesPerSecond)) examples/s; " + losses.joined(separator: ", ")
        case .epochFinished(let report):
            var text = "epoch \(report.epoch) done in \(String(format: "%.1f", report.seconds)) s (\(Int(report.examplesPerSecond)) examples/s, lr \(report.learningRate))"
            if let validation = report.validation {
                let metrics = validation.tasks.filter { $0.key != .nextDomain }.sorted { name($0.key) < name($1.key) }.map {
                    "\(name($0.key)) HR@\(validation.cutoff) \(String(format: "%.3f", $0.value.hitRate))"
                }
                text += "; validation " + metrics.joined(separator: ", ")
            }
            line = text + (report.isBest ? " (best)" : "")
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
