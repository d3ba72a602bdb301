import MedleyModel

/// Starting values for fine-tuning: a new model's parameters taken from the model it
/// follows wherever the two agree, so that `medley train --follow` continues from the serving
/// model instead of starting over.
///
/// Rows of the item and user tables are matched by identity (an item by domain name and id,
/// a user by id); new items and users keep their fresh seeded values. Every other tensor is
/// copied when its name and shape match (same architecture and sizes), else left fresh.
enum WarmStart {
    static func parameters(fresh: ModelFileContents, previous: ModelFileContents) -> ModelParameters {
        var parameters = fresh.parameters
        let previousDomains = previous.configuration.domains
        let domainIndex = fresh.configuration.domains.map { previousDomains.firstIndex(of: $0) }
        let itemRows = fresh.catalog.ids.indices.map { row -> Int? in
            guard let domain = domainIndex[fresh.catalog.domainOfItem[row]] else { return nil }
            return previous.catalog.row(domain: domain, id: fresh.catalog.ids[row])
        }
        let userRows = fresh.users.ids.map { previous.users.row(of: $0) }

        for (name, tensor) in fresh.parameters.tensors {
            guard let old = previous.parameters.tensors[name] else { continue }
            switch name {
            case ParameterLayout.itemEmbedding, ParameterLayout.itemBias:
                parameters[name] = copyRows(into: tensor, from: old, mapping: itemRows)
            case ParameterLayout.userEmbedding:
                parameters[name] = copyRows(into: tensor, from: old, mapping: userRows)
            default:
                if old.shape == tensor.shape { parameters[name] = old }
            }
        }
        return parameters
    }

    /// `target` with row `r` replaced by `source`'s row `mapping[r]` where there is one and
    /// the rows have the same width.
    private static func copyRows(into target: Tensor, from source: Tensor, mapping: [Int?]) -> Tensor {
        let width = target.shape.dropFirst().reduce(1, *)
        guard source.shape.dropFirst().reduce(1, *) == width else { return target }
        var scalars = target.scalars
        for (row, sourceRow) in mapping.enumerated() {
            guard let sourceRow else { continue }
            for column in 0..<width {
                scalars[row * width + column] = source.scalars[sourceRow * width + column]
            }
        }
        return Tensor(shape: target.shape, scalars: scalars)
    }
}
