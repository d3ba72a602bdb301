import ArgumentParser
import MedleyModel
import MedleyTraining

/// How `medley train` and `medley eval` spell a shared encoder and a task weighting.
enum MultitaskOptionParsing {
    static let architectureHelp = "mlp, mmoe:EXPERTS or ple:SHARED:TASK:LEVELS"
    static let taskWeightingHelp = "equal, uncertainty, gradnorm (alpha \(TaskWeighting.defaultGradNormAlpha)), gradnorm:ALPHA or mgda"

    static func architecture(_ text: String) throws -> ModelConfiguration.Architecture {
        if text == "mlp" { return .mlp }
        if text.hasPrefix("mmoe:"), let experts = Int(text.dropFirst(5)), experts > 0 { return .mmoe(experts: experts) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0] == "ple", let shared = Int(parts[1]), let own = Int(parts[2]), let levels = Int(parts[3]),
           shared > 0, own > 0, (1...8).contains(levels) {
            return .ple(sharedExperts: shared, taskExperts: own, levels: levels)
        }
        throw ValidationError("the architecture is \(architectureHelp) (e.g. mmoe:4, ple:2:1:2), not \"\(text)\"")
    }

    static func taskWeighting(_ text: String) throws -> TaskWeighting {
        switch text {
        case "equal": return .equal
        case "uncertainty": return .uncertainty
        case "mgda": return .mgda
        case "gradnorm": return .gradNorm(alpha: TaskWeighting.defaultGradNormAlpha)
        default:
            if text.hasPrefix("gradnorm:"), let alpha = Float(text.dropFirst(9)), alpha.isFinite, alpha >= 0 {
                return .gradNorm(alpha: alpha)
            }
            throw ValidationError("the task weighting is \(taskWeightingHelp), not \"\(text)\"")
        }
    }
}
