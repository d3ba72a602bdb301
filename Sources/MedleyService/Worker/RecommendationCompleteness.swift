import MedleyModel

/// The last guard before a recommend reply leaves a worker: every list is as long as the
/// catalogue allows (k, or every item not excluded when fewer), and every score and
/// probability is finite. Verification (``ModelServability``) keeps models that could fail
/// this out of service; if one ever fails it anyway, the request gets INTERNAL instead of
/// silently empty or short lists.
enum RecommendationCompleteness {
    /// What is wrong with `result`, or nil when it is complete.
    static func problem(with result: Recommendations, input: EncodedInput, catalog: ItemCatalog, length: Int) -> String? {
        if result.nextDomainProbabilities.contains(where: { !$0.isFinite }) {
            return "the model gave non-finite next-domain probabilities"
        }
        func available(_ rows: Range<Int>) -> Int {
            rows.count - input.excludedRows.lazy.filter { rows.contains($0) }.count
        }
        var blendable = 0
        for (t, list) in result.perDomain.enumerated() {
            let expected = min(length, available(catalog.domainRanges[t]))
            blendable += expected
            guard list.count >= expected else {
                return "the \(result.domains[t]) list has \(list.count) items where \(expected) were expected (non-finite scores)"
            }
        }
        guard result.session.count >= min(length, available(0..<catalog.count)) else {
            return "the session list has \(result.session.count) items (non-finite scores)"
        }
        guard result.blended.count >= min(length, blendable) else {
            return "the blended list has \(result.blended.count) items"
        }
        let lists = result.perDomain + [result.session, result.blended]
        if let bad = lists.joined().first(where: { !$0.score.isFinite }) {
            return "item \(bad.item.id) scored \(bad.score)"
        }
        return nil
    }
}
