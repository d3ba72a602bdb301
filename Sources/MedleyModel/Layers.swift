/// A fully connected layer, `y = W x + b` with `W` of shape `[out, in]`.
public enum Linear {
    public static func forward(weight: Tensor, bias: Tensor, input x: [Float]) -> [Float] {
        let out = weight.rows, width = weight.columns
        precondition(x.count == width && bias.count == out, "linear layer: input \(x.count), weight \(weight.shape), bias \(bias.shape)")
        var y = bias.scalars
        weight.scalars.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { xp in
                for o in 0..<out {
                    y[o] += ScoringKernels.dot(w.baseAddress! + o * width, xp.baseAddress!, width)
                }
            }
        }
        return y
    }

    /// Adds `dy xᵀ` to the weight gradient and `dy` to the bias gradient; returns `dx = Wᵀ dy`.
    public static func backward(
        weight: Tensor, input x: [Float], outputGradient dy: [Float],
        weightGradient: inout Tensor, biasGradient: inout Tensor
    ) -> [Float] {
        let out = weight.rows, width = weight.columns
        precondition(dy.count == out && x.count == width, "linear backward: shapes disagree")
        var dx = [Float](repeating: 0, count: width)
        weight.scalars.withUnsafeBufferPointer { w in
            weightGradient.scalars.withUnsafeMutableBufferPointer { dw in
                for o in 0..<out where dy[o] != 0 {
                    let g = dy[o]
                    let row = o * width
                    for i in 0..<width {
                        dw[row + i] += g * x[i]
                        dx[i] += g * w[row + i]
                    }
                }
            }
        }
        biasGradient.scalars.withUnsafeMutableBufferPointer { db in
            for o in 0..<out { db[o] += dy[o] }
        }
        return dx
    }
}

/// The rectifier, `max(0, x)`.
public enum ReLU {
    public static func forward(_ x: [Float]) -> [Float] { x.map { max(0, $0) } }

    /// The gradient passes where the pre-activation was positive.
    public static func backward(preActivation x: [Float], outputGradient dy: [Float]) -> [Float] {
        zip(x, dy).map { $0 > 0 ? $1 : 0 }
    }
}

/// The softmax, computed stably (the maximum is subtracted first).
public enum Softmax {
    public static func forward(_ logits: [Float]) -> [Float] {
        guard let m = logits.max() else { return [] }
        let e = logits.map { expf($0 - m) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// `dz = p ⊙ (dp − ⟨p, dp⟩)`.
    public static func backward(probabilities p: [Float], outputGradient dp: [Float]) -> [Float] {
        let inner = zip(p, dp).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        return zip(p, dp).map { $0 * ($1 - inner) }
    }

    /// `log Σ exp(z)`, computed stably.
    public static func logSumExp(_ logits: [Float]) -> Float {
        guard let m = logits.max() else { return -.infinity }
        return m + logf(logits.reduce(Float(0)) { $0 + expf($1 - m) })
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stack of linear layers with ReLU after each hidden layer, and after the last one too
/// when `activateOutput` is set (encoder layers) or not (head towers, whose output is a query
/// or logits). Parameter names are fixed at construction so the forward pass does no string work.
public struct MLP: Sendable {
    public let weightNames: [String]
    public let biasNames: [String]
    public let activateOutput: Bool

    public init(prefix: String, layerCount: Int, activateOutput: Bool) {
        weightNames = (0..<layerCount).map { "\(prefix).layers.\($0).weight" }
        biasNames = (0..<layerCount).map { "\(prefix).layers.\($0).bias" }
        self.activateOutput = activateOutput
    }

    /// What the backward pass needs: each layer's input and pre-activation.
    public struct Cache: Sendable {
        public var inputs: [[Float]] = []
        public var preActivations: [[Float]] = []
        public var output: [Float] = []
    }

    public func forward(_ x: [Float], parameters: ModelParameters) -> Cache {
        var cache = Cache()
        var h = x
        for l in weightNames.indices {
            cache.inputs.append(h)
            let z = Linear.forward(weight: parameters[weightNames[l]], bias: parameters[biasNames[l]], input: h)
            cache.preActivations.append(z)
            h = (l < weightNames.count - 1 || activateOutput) ? ReLU.forward(z) : z
        }
        cache.output = h
        return cache
    }

    /// Accumulates parameter gradients; returns the gradient with respect to the input.
    public func backward(_ cache: Cache, outputGradient: [Float], parameters: ModelParameters,
                         into gradients: inout ModelParameters) -> [Float] {
        var dy = outputGradient
        for l in weightNames.indices.reversed() {
            if l < weightNames.count - 1 || activateOutput {
                dy = ReLU.backward(preActivation: cache.preActivations[l], outputGradient: dy)
            }
            dy = gradients.withTensors(weightNames[l], biasNames[l]) { [dy] dw, db in
                Linear.backward(weight: parameters[weightNames[l]], input: cache.inputs[l], outputGradient: dy,
                                weightGradient: &dw, biasGradient: &db)
            }
        }
        return dy
    }
}
