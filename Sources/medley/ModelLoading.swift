import ArgumentParser
import Foundation
import MedleyModel
import MedleyModelDistribution

/// Loads the model a serving command starts with, held to the checks a published model
/// passes (``ModelServability``); a refused file is reported as a usage error that names
/// what is wrong with it.
func loadServingModel(_ path: String, itemPrecision: ItemPrecisionChoice = .automatic, index: ItemIndexKind = .exact) throws -> MultitaskModel {
    try loadServingModelFile(path, itemPrecision: itemPrecision, index: index).model
}

/// ``loadServingModel(_:itemPrecision:index:)``, with the bytes the model was decoded from.
func loadServingModelFile(_ path: String, itemPrecision: ItemPrecisionChoice = .automatic,
                          index: ItemIndexKind = .exact) throws -> (model: MultitaskModel, bytes: [UInt8]) {
    do {
        let bytes = try ModelFile.readBytes(URL(fileURLWithPath: path))
        let contents = try ModelFile.decode(bytes)
        let model = try MultitaskModel(contents, itemPrecision: itemPrecision.precision(for: contents), index: index)
        try ModelServability.check(model)
        return (model, bytes)
    } catch {
        throw ValidationError("the model \(path) was refused: \(error)")
    }
}

/// The model file at `path` as worker processes are sent it: the bytes `model` was decoded
/// from (read once: a second read held a second copy at start, and would send workers another
/// model if the file were replaced in between), with the detached signature beside it if there is one.
func servingModelPublication(_ path: String, bytes: [UInt8], model: MultitaskModel) throws -> ModelPublication {
    do {
        return try ModelPublication(modelFileBytes: bytes, at: path, model: model)
    } catch {
        throw ValidationError("the model \(path) cannot be read for worker processes: \(error)")
    }
}

extension ItemPrecisionChoice: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { allNames }
}
