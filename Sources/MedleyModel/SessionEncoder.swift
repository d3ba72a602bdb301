/// A model's order-aware session encoder, whichever kind its shape names: the passes the
/// network, the trainer and serving run, dispatched to ``SessionAttention`` or ``SessionGRU``.
public enum SessionEncoder: Sendable {
    case attention(SessionAttention)
    case gru(SessionGRU)

    public init(shape: SessionEncoderShape, dimension: Int) {
        switch shape.kind {
        case .attention: self = .attention(SessionAttention(shape: shape, dimension: dimension))
        case .gru: self = .gru(SessionGRU(dimension: dimension, shape: shape))
        }
    }

    public var shape: SessionEncoderShape {
        switch self {
        case .attention(let a): return a.shape
        case .gru(let g): return g.shape
        }
    }

    public var dimension: Int {
        switch self {
        case .attention(let a): return a.dimension
        case .gru(let g): return g.dimension
        }
    }

    /// Every tensor of the encoder with its shape, in the order model files list them.
    public var layoutEntries: [(name: String, shape: [Int])] {
        switch self {
        case .attention(let a): return a.layoutEntries
        case .gru(let g): return g.layoutEntries
        }
    }

    /// The activations of one pass over a sequence, and its output.
    public enum Cache: Sendable {
        case attention(SessionAttention.Cache)
        case gru(SessionGRU.Cache)

        public var rows: [Int] {
            switch self {
            case .attention(let c): return c.rows
            case .gru(let c): return c.rows
            }
        }

        /// m × d: row j is the encoder output after the items 0…j.
        public var output: [Float] {
            switch self {
            case .attention(let c): return c.output
            case .gru(let c): return c.output
            }
        }

        /// The output row after the last item; nil for an empty sequence.
        public var lastOutput: [Float]? {
            switch self {
            case .attention(let c): return c.lastOutput
            case .gru(let c): return c.lastOutput
            }
        }
    }

    /// The forward pass over `rows` (oldest first, at most the shape's length) for every
    /// position, with dropout when one is given (training).
    public func forward(_ rows: [Int], parameters: ModelParameters, dropout: inout SequenceDropout?) -> Cache {
        switch self {
        case .attention(let a): return .attention(a.forward(rows, parameters: parameters, dropout: &dropout))
        case .gru(let g): return .gru(g.forward(rows, parameters: parameters, dropout: &dropout))
        }
    }

    /// The inference pass: no dropout.
    public func forward(_ rows: [Int], parameters: ModelParameters) -> Cache {
        var none: SequenceDropout? = nil
        return forward(rows, parameters: parameters, dropout: &none)
    }

    /// The serving output: the newest position's row only; nil for an empty sequence.
    public func lastOutput(_ rows: [Int], parameters: ModelParameters) -> [Float]? {
        switch self {
        case .attention(let a): return a.lastOutput(rows, parameters: parameters)
        case .gru(let g): return g.lastOutput(rows, parameters: parameters)
        }
    }

    /// Accumulates into `gradients` the gradient of a loss whose gradient with respect to every
    /// position's output is given. - Precondition: the cache is this encoder's.
    public func backward(_ cache: Cache, outputGradient: [Float], parameters: ModelParameters,
                         into gradients: inout ModelParameters) {
        switch (self, cache) {
        case (.attention(let a), .attention(let c)):
            a.backward(c, outputGradient: outputGradient, parameters: parameters, into: &gradients)
        case (.gru(let g), .gru(let c)):
            g.backward(c, outputGradient: outputGradient, parameters: parameters, into: &gradients)
        case (.attention, .gru), (.gru, .attention):
            preconditionFailure("a session encoder's backward pass was given another encoder's activations")
        }
    }
}
