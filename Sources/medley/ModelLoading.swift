import ArgumentParser
import Foundation
import MedleyModel

/// Loads the model a serving command starts with, held to the checks a published model
/// passes (``ModelServability``); a refused file is reported as a usage error that names
/// what is wrong with it.
func loadServingModel(_ path: String) throws -> MultitaskModel {
    do {
        let model = try MultitaskModel(contentsOf: URL(fileURLWithPath: path))
        try ModelServability.check(model)
        return model
    } catch {
        throw ValidationError("the model \(path) was refused: \(error)")
    }
}
