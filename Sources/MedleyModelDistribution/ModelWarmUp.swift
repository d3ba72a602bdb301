import MedleyModel

/// Forward passes a new model runs before it serves, off the request path: the first
/// requests after a swap then find its pages resident and its scorer's buffers grown, and a
/// model whose weights are finite but whose outputs overflow is refused before anyone sees it.
enum ModelWarmUp {
    /// Runs `passes` batches of representative inputs: an anonymous user with no session, a
    /// known user, and a session touching every domain.
    static func run(_ model: MultitaskModel, passes: Int, nowMs: Int64) throws(ModelRejection) {
        guard passes > 0 else { return }
        let inputs = representativeInputs(for: model, nowMs: nowMs)
        let encoded: [EncodedInput]
        do {
            encoded = try inputs.map { input throws(ModelInputError) in try model.encode(input) }
        } catch {
            throw .warmUpFailed("a representative input could not be encoded: \(error)")
        }
        for _ in 0..<passes {
            for (index, result) in model.recommend(encoded).enumerated() {
                let lists = result.perDomain + [result.session, result.blended]
                if let bad = lists.joined().first(where: { !$0.score.isFinite }) {
                    throw .warmUpFailed("input \(index) scored item \(bad.item.id) as \(bad.score)")
                }
                if result.nextDomainProbabilities.contains(where: { !$0.isFinite }) {
                    throw .warmUpFailed("input \(index) got non-finite next-domain probabilities")
                }
            }
        }
    }

    static func representativeInputs(for model: MultitaskModel, nowMs: Int64) -> [ModelInput] {
        let configuration = model.configuration
        let context = configuration.contextDimension == ContextFeatures.dimension
            ? ContextFeatures.encode(timestampMilliseconds: nowMs)
            : [Float](repeating: 0, count: configuration.contextDimension)
        let catalog = model.catalog
        // The first item of each domain, most recent last.
        let session = catalog.domainRanges.enumerated().compactMap { domain, rows -> SessionEvent? in
            guard let row = rows.first else { return nil }
            let item = ItemReference(domain: configuration.domains[domain], id: catalog.ids[row])
            return SessionEvent(item: item, type: .play, timestampMilliseconds: nowMs - Int64(catalog.domainRanges.count - domain) * 1000)
        }
        var inputs = [
            ModelInput(context: context, requestTimeMilliseconds: nowMs),
            ModelInput(events: session, context: context, requestTimeMilliseconds: nowMs),
        ]
        if let user = model.users.ids.first {
            inputs.append(ModelInput(userID: user, events: session, context: context, requestTimeMilliseconds: nowMs))
        }
        return inputs
    }
}
