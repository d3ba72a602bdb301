import ArgumentParser
import Foundation
import MedleyModel

/// Loads the model a serving command starts with; a refused file is reported as a usage
/// error that names what is wrong with it.
func loadServingModel(_ path: String, itemPrecision: ItemPrecision = .float32, index: ItemIndexKind = .exact) throws -> MultitaskModel {
    do {
        return try MultitaskModel(contentsOf: URL(fileURLWithPath: path), itemPrecision: itemPrecision, index: index)
    } catch {
        throw ValidationError("the model \(path) was refused: \(error)")
    }
}

extension ItemPrecision: ExpressibleByArgument {}
