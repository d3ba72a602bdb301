import ArgumentParser
import Foundation
import MedleyModel
import MedleyModelDistribution

/// Loads the model a serving command starts with, held to the checks a published model
/// passes (``ModelServability``); a refused file is reported as a usage error that names
/// what is wrong with it.
func loadServingModel(_ path: String, itemPrecision: ItemPrecision = .float32, index: ItemIndexKind = .exact) throws -> MultitaskModel {
    do {
        let model = try MultitaskModel(contentsOf: URL(fileURLWithPath: path), itemPrecision: itemPrecision, index: index)
        try ModelServability.check(model)
        return model
    } catch {
        throw ValidationError("the model \(path) was refused: \(error)")
    }
}

/// The model file at `path` as worker processes are sent it: its bytes, with the detached
/// signature beside it if there is one.
func servingModelPublication(_ path: String, model: MultitaskModel) throws -> ModelPublication {
    do {
        return try ModelPublication(modelFile: path, model: model)
    } catch {
        throw ValidationError("the model \(path) cannot be read for worker processes: \(error)")
    }
}

extension ItemPrecision: ExpressibleByArgument {}
