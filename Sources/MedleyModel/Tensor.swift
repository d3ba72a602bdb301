/// A dense, row-major array of `Float` with a shape.
///
/// Tensors are values: copying one shares storage until a copy is mutated, so a model's
/// item table held in a `let` is stored once and read by every worker without copying.
public struct Tensor: Sendable, Equatable {
    /// The size of each dimension, outermost first. A scalar has shape `[]`.
    public let shape: [Int]
    /// The elements in row-major order; `scalars.count` is the product of `shape`.
    public var scalars: [Float]

    /// Creates a tensor from its shape and row-major elements.
    /// - Precondition: `scalars.count` equals the product of `shape`, and no dimension is negative.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(Tensor.elementCount(of: shape) == scalars.count,
                     "shape \(shape) needs \(Tensor.elementCount(of: shape)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: Tensor.elementCount(of: shape)))
    }

    /// The number of elements.
    public var count: Int { scalars.count }

    /// The number of rows of a matrix (the first dimension).
    public var rows: Int { shape.first ?? 1 }

    /// The number of columns of a matrix (the second dimension; 1 for vectors).
    public var columns: Int { shape.count >= 2 ? shape[1] : 1 }

    /// One row of a matrix as a new array.
    public func row(_ index: Int) -> [Float] {
        precondition(shape.count == 2 && index >= 0 && index < shape[0], "row \(index) out of range for \(shape)")
        let width = shape[1]
        return Array(scalars[index * width ..< (index + 1) * width])
    }

    /// Whether every element is finite (neither NaN nor infinite).
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }

    /// The product of the dimensions of `shape` (1 for a scalar).
    public static func elementCount(of shape: [Int]) -> Int {
        shape.reduce(1, *)
    }
}
