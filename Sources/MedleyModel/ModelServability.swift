/// Whether a valid model can serve through Medley's service: its context width is the one the
/// service builds (``ContextFeatures``), and no input the service can give it (any user row,
/// any items in the session and slots, any context) can make a score or a logit overflow.
///
/// Finite weights are not enough: a bias of 3e38 is finite, yet the next layer's sums are not.
/// The check bounds every activation by interval arithmetic in double precision. Each input
/// coordinate is bounded by the largest magnitude it can take (user vector: the largest user or
/// item row value in that column; session vector: normalised weights have Σ|w| = 1, so the
/// largest item value; slots: the largest item value; context: 1, as sin and cos); a layer's
/// output j is bounded by Σ_i |W_ji| · bound_i + |b_j|; ReLU and the gates' convex mixing keep
/// bounds. Float sums of terms whose absolute sum is finite stay finite, so a bound under
/// half the largest float (room for rounding) guarantees finite outputs for every input.
public enum ModelServability {
    /// The largest bound accepted for any activation, score or logit.
    public static let limit = Double(Float.greatestFiniteMagnitude) / 2
    /// The largest magnitude of a context feature the service builds (sines and cosines).
    public static let contextBound = 1.0

    public static func check(_ model: MultitaskModel) throws(ModelServabilityProblem) {
        let c = model.configuration
        guard c.contextDimension == ContextFeatures.dimension else {
            throw .contextDimension(model: c.contextDimension, service: ContextFeatures.dimension)
        }
        let p = model.parameters
        let d = c.embeddingDimension
        let items = columnBounds(p[ParameterLayout.itemEmbedding], width: d)
        let users = columnBounds(p[ParameterLayout.userEmbedding], width: d)
        var x = zip(users, items).map { max($0, $1) } + items
        for _ in 0..<c.lastItemSlots { x += items }
        x += [Double](repeating: contextBound, count: c.contextDimension)
        var attentionBound: [Double]? = nil
        if let shape = c.sessionEncoder {
            let bound: [Double]
            switch SessionEncoder(shape: shape, dimension: d) {
            case .attention(let attention): bound = try sessionAttentionBound(attention, items: items, parameters: p)
            case .gru(let gru): bound = try sessionGRUBound(gru, items: items, parameters: p)
            }
            x += bound
            if shape.sessionQuery == .towerPlusAttention { attentionBound = bound }
        }

        let representation: [Double]
        switch c.architecture {
        case .mlp:
            representation = try mlp(ParameterLayout.encoderPrefix, layers: c.hiddenDimensions.count, input: x, parameters: p)
        case .mmoe(let experts):
            var mixed = [Double](repeating: 0, count: c.representationDimension)
            for e in 0..<experts {
                let h = try mlp(ParameterLayout.expertPrefix(e), layers: c.hiddenDimensions.count, input: x, parameters: p)
                mixed = zip(mixed, h).map { max($0, $1) }
            }
            for task in c.tasks {
                _ = try layer(ParameterLayout.gatePrefix(task, domains: c.domains), input: x, parameters: p)
            }
            representation = mixed
        case .ple(let shared, let own, let levels):
            // Every gate mixes convexly, so a level's outputs are bounded by the largest bound of
            // any of its experts; the next level reads such mixtures.
            var input = x
            for l in 0..<levels {
                var mixed = [Double](repeating: 0, count: c.representationDimension)
                var prefixes = (0..<shared).map { ParameterLayout.pleSharedExpertPrefix(level: l, expert: $0) }
                for task in c.tasks {
                    prefixes += (0..<own).map { ParameterLayout.pleTaskExpertPrefix(level: l, task: task, expert: $0, domains: c.domains) }
                    _ = try layer(ParameterLayout.pleTaskGatePrefix(level: l, task: task, domains: c.domains), input: input, parameters: p)
                }
                if l < levels - 1 { _ = try layer(ParameterLayout.pleSharedGatePrefix(level: l), input: input, parameters: p) }
                for prefix in prefixes {
                    let h = try mlp(prefix, layers: c.hiddenDimensions.count, input: input, parameters: p)
                    mixed = zip(mixed, h).map { max($0, $1) }
                }
                input = mixed
            }
            representation = input
        }

        let embeddings = p[ParameterLayout.itemEmbedding].scalars
        let biases = p[ParameterLayout.itemBias].scalars
        for task in c.tasks {
            let prefix = ParameterLayout.headPrefix(task, domains: c.domains)
            var query = try mlp(prefix, layers: c.towerHiddenDimensions.count + 1, input: representation, parameters: p)
            if task == .session, let attentionBound { query = zip(query, attentionBound).map(+) }
            let rows: Range<Int>
            switch task {
            case .domain(let t): rows = model.catalog.domainRanges[t]
            case .session: rows = 0..<model.catalog.count
            case .nextDomain: continue  // logits, bounded by the tower's last layer
            }
            // Strengths are at most 1, so the blend moves a score by at most
            // weight × (1 + … + 1/depth) + |repeat bias|.
            let rulesBound = task == .session ? Double(model.contents.sequentialRules?.largestAddition ?? 0) : 0
            for row in rows {
                var bound = Double(abs(biases[row])) + rulesBound
                for k in 0..<d { bound += query[k] * Double(abs(embeddings[row * d + k])) }
                guard bound <= limit else {
                    throw .outputMayOverflow(what: "\(prefix) score of item \(model.catalog.ids[row])", bound: bound)
                }
            }
        }
    }

    /// Bounds of the session attention's output (models/README.md) over any sequence of items:
    /// each layer norm's output is bounded by √d·|scale| + |shift| whatever its (finite) input,
    /// attention mixes the values convexly, and every sum on the way is checked.
    static func sessionAttentionBound(_ attention: SessionAttention, items: [Double], parameters p: ModelParameters)
        throws(ModelServabilityProblem) -> [Double] {
        let d = attention.dimension
        func linear(_ names: (weight: String, bias: String), _ input: [Double]) throws(ModelServabilityProblem) -> [Double] {
            try layer(String(names.weight.dropLast(".weight".count)), input: input, parameters: p)
        }
        func norm(_ scale: String, _ shift: String) -> [Double] {
            zip(p[scale].scalars, p[shift].scalars).map { (Double(d).squareRoot() * Double(abs($0))) + Double(abs($1)) }
        }
        func sum(_ a: [Double], _ b: [Double], _ what: String) throws(ModelServabilityProblem) -> [Double] {
            let total = zip(a, b).map(+)
            if let worst = total.max(), worst > limit { throw .outputMayOverflow(what: what, bound: worst) }
            return total
        }
        var h = try sum(items, columnBounds(p[attention.positionName], width: d), "\(SessionAttention.prefix) input")
        for (b, names) in attention.blockNames.enumerated() {
            let a = norm(names.attentionScale, names.attentionShift)
            let query = try linear(names.query, a), key = try linear(names.key, a)
            let logit = zip(query, key).reduce(0) { $0 + $1.0 * $1.1 } / Double(d / attention.shape.heads).squareRoot()
            guard logit <= limit else { throw .outputMayOverflow(what: "\(SessionAttention.prefix) block \(b) attention logits", bound: logit) }
            let attended = try linear(names.value, a)
            h = try sum(h, linear(names.output, attended), "\(SessionAttention.prefix) block \(b) after attention")
            let inner = try linear(names.inner, norm(names.feedForwardScale, names.feedForwardShift))
            h = try sum(h, linear(names.outer, inner), "\(SessionAttention.prefix) block \(b) after the feed-forward layer")
        }
        return norm(attention.finalScale, attention.finalShift)
    }

    /// Bounds of the GRU's output (models/README.md): every coordinate of h lies in (−1, 1)
    /// whatever the input, so the bound is 1; what is checked is that no gate's pre-activation
    /// (input projection of an item row plus hidden projection of such an h) may overflow.
    static func sessionGRUBound(_ gru: SessionGRU, items: [Double], parameters p: ModelParameters)
        throws(ModelServabilityProblem) -> [Double] {
        let d = gru.dimension
        let fromItem = try layer(String(gru.input.weight.dropLast(".weight".count)), input: items, parameters: p)
        let fromState = try layer(String(gru.hidden.weight.dropLast(".weight".count)),
                                  input: [Double](repeating: 1, count: d), parameters: p)
        let preActivation = zip(fromItem, fromState).map(+)
        if let worst = preActivation.max(), worst > limit {
            throw .outputMayOverflow(what: "\(SessionGRU.prefix) gate pre-activations", bound: worst)
        }
        return [Double](repeating: 1, count: d)
    }

    /// The largest magnitude in each column of a [rows, width] table (zeros for no rows).
    static func columnBounds(_ table: Tensor, width: Int) -> [Double] {
        var bounds = [Double](repeating: 0, count: width)
        for (index, value) in table.scalars.enumerated() {
            bounds[index % width] = max(bounds[index % width], Double(abs(value)))
        }
        return bounds
    }

    static func mlp(_ prefix: String, layers: Int, input: [Double], parameters: ModelParameters) throws(ModelServabilityProblem) -> [Double] {
        var bounds = input
        for l in 0..<layers { bounds = try layer("\(prefix).layers.\(l)", input: bounds, parameters: parameters) }
        return bounds
    }

    /// Bounds of `W x + b` for |x_i| ≤ input[i]; ReLU does not raise them.
    static func layer(_ name: String, input: [Double], parameters: ModelParameters) throws(ModelServabilityProblem) -> [Double] {
        let weight = parameters["\(name).weight"]
        let bias = parameters["\(name).bias"].scalars
        let width = input.count
        return try (0..<weight.shape[0]).map { j throws(ModelServabilityProblem) in
            var bound = Double(abs(bias[j]))
            for i in 0..<width { bound += Double(abs(weight.scalars[j * width + i])) * input[i] }
            guard bound <= limit else { throw .outputMayOverflow(what: "\(name) output \(j)", bound: bound) }
            return bound
        }
    }
}

/// Why a valid model file cannot serve.
public enum ModelServabilityProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model reads another number of context features than the service builds.
    case contextDimension(model: Int, service: Int)
    /// Some input the service can give the model could make this output overflow.
    case outputMayOverflow(what: String, bound: Double)

    public var description: String {
        switch self {
        case .contextDimension(let model, let service):
            "the model's context_dim is \(model); the service builds \(service) context features (time of day and week)"
        case .outputMayOverflow(let what, let bound):
            "weights too large to serve: \(what) can reach \(bound) in magnitude, beyond what float32 holds; some inputs would score NaN or infinity"
        }
    }
}
