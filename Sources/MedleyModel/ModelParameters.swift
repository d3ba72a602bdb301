import MedleySystem
/// A model's learned values as named tensors (names and shapes from ``ParameterLayout``).
/// The same type holds gradients, which have the parameters' names and shapes.
public struct ModelParameters: Sendable, Equatable {
    /// Tensors by name.
    public var tensors: [String: Tensor]

    public init(tensors: [String: Tensor]) {
        self.tensors = tensors
    }

    /// Zeros in every tensor of a layout: a gradient accumulator.
    public init(zerosFor layout: ParameterLayout) {
        var tensors: [String: Tensor] = [:]
        for entry in layout.entries { tensors[entry.name] = Tensor(zeros: entry.shape) }
        self.tensors = tensors
    }

    /// Zeros shaped like `other`.
    public init(zerosLike other: ModelParameters) {
        self.tensors = other.tensors.mapValues { Tensor(zeros: $0.shape) }
    }

    /// Fresh parameters for training: weights drawn uniformly in ±sqrt(6 / (in + out))
    /// (Glorot), embedding tables (item, user, session positions) in ±1/sqrt(d), layer-norm
    /// scales one, biases and shifts zero; deterministic for a seed.
    public static func initialized(layout: ParameterLayout, seed: UInt64) -> ModelParameters {
        var rng = SplitMix64(seed: seed)
        var tensors: [String: Tensor] = [:]
        for entry in layout.entries {
            let count = Tensor.elementCount(of: entry.shape)
            var scalars = [Float](repeating: 0, count: count)
            if entry.name.hasSuffix(".weight") {
                let limit = (6 / Float(max(1, entry.shape[0] + entry.shape[1]))).squareRoot()
                for i in 0..<count { scalars[i] = rng.nextFloat(in: -limit...limit) }
            } else if entry.name.hasSuffix(".embedding") {
                let limit = 1 / Float(max(1, entry.shape[1])).squareRoot()
                for i in 0..<count { scalars[i] = rng.nextFloat(in: -limit...limit) }
            } else if entry.name.hasSuffix(".scale") {
                scalars = [Float](repeating: 1, count: count)
            }
            tensors[entry.name] = Tensor(shape: entry.shape, scalars: scalars)
        }
        return ModelParameters(tensors: tensors)
    }

    /// The tensor with this name. - Precondition: it exists.
    public subscript(name: String) -> Tensor {
        get {
            guard let tensor = tensors[name] else { preconditionFailure("no tensor named \(name)") }
            return tensor
        }
        set { tensors[name] = newValue }
    }

    /// Lets `body` update two named tensors (a layer's weight and bias gradients) in place: they
    /// are taken out and put back, so that the two are not two simultaneous accesses to one
    /// dictionary. - Precondition: both exist.
    public mutating func withTensors<R>(_ first: String, _ second: String,
                                        _ body: (inout Tensor, inout Tensor) throws -> R) rethrows -> R {
        var a = tensors.removeValue(forKey: first)!
        var b = tensors.removeValue(forKey: second)!
        defer {
            tensors[first] = a
            tensors[second] = b
        }
        return try body(&a, &b)
    }

    /// Adds row j of `values` (`rows.count` rows of the tensor's width) to row `rows[j]` of the
    /// named tensor: a sequence encoder's input gradient, into the embedding rows it read.
    public mutating func addRows(_ values: [Float], to rows: [Int], of name: String) {
        let d = tensors[name]!.columns
        precondition(values.count == rows.count * d, "\(values.count) values for \(rows.count) rows of \(d)")
        tensors[name]!.scalars.withUnsafeMutableBufferPointer { g in
            for (j, row) in rows.enumerated() {
                for k in 0..<d { g[row * d + k] += values[j * d + k] }
            }
        }
    }
}
