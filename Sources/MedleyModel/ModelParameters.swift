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

    /// `self += scale * other`, tensor by tensor (an optimiser step or gradient accumulation).
    public mutating func add(_ other: ModelParameters, scaledBy scale: Float = 1) {
        for (name, tensor) in other.tensors {
            precondition(tensors[name]?.shape == tensor.shape, "shape mismatch for \(name)")
            tensors[name]!.scalars.withUnsafeMutableBufferPointer { dst in
                tensor.scalars.withUnsafeBufferPointer { src in
                    for i in 0..<src.count { dst[i] += scale * src[i] }
                }
            }
        }
    }
}
