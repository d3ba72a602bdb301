import Foundation
import MedleyModel

/// How often reduced-precision scoring or an index returns the float32 lists (`medley bench
/// model`), or them but for items tied within float32 rounding, and how often int8 lists needed
/// their retry or the float32 pass.
enum ListAgreement {
    static func measure(reduced: MultitaskModel, exact: MultitaskModel, inputs: [EncodedInput],
                        options: RecommendationOptions, batch: Int) -> String {
        var identical = 0, identicalUpToRounding = 0, found = 0, wanted = 0
        let counts = reduced.scorer.reducedCounts
        let (checkedBefore, retriedBefore, fullBefore) = (counts.listsChecked, counts.listsRetried, counts.listsScoredInFull)
        for start in stride(from: 0, to: inputs.count, by: batch) {
            let slice = Array(inputs[start..<min(inputs.count, start + batch)])
            for (r, e) in zip(reduced.recommend(slice, options: options), exact.recommend(slice, options: options)) {
                let reducedLists = r.perDomain + [r.session, r.blended], exactLists = e.perDomain + [e.session, e.blended]
                if zip(reducedLists, exactLists).allSatisfy({ $0.map(\.row) == $1.map(\.row) }) {
                    identical += 1
                } else if zip(reducedLists, exactLists).allSatisfy({ Recommendation.listsMatchUpToRounding($0, $1) }) {
                    identicalUpToRounding += 1
                }
                for (a, b) in zip(reducedLists, exactLists) {
                    found += Set(a.map(\.row)).intersection(b.map(\.row)).count
                    wanted += b.count
                }
            }
        }
        let agreement = String(format: "%@, %@ lists against exact float32: %d of %d requests identical in every list (%.3f %%), %d more the same but for items tied within float32 rounding; recall@%d %.5f",
                      reduced.itemPrecision.rawValue, reduced.index.description, identical, inputs.count, 100 * Double(identical) / Double(max(1, inputs.count)),
                      identicalUpToRounding, options.perDomain, Double(found) / Double(max(1, wanted)))
        let checked = counts.listsChecked - checkedBefore, retried = counts.listsRetried - retriedBefore
        let full = counts.listsScoredInFull - fullBefore
        guard checked > 0 else { return agreement }
        return agreement + String(format: "\nint8 candidates checked against the error bound: of %d lists, %d tried again with more candidates (%.3f %%), %d of those scored in float32 over their block (%.3f %%); candidates now %@",
                                  checked, retried, 100 * Double(retried) / Double(checked), full, 100 * Double(full) / Double(checked),
                                  reduced.scorer.int8Margin.isWide ? "4k (wide)" : "k + 16 (narrow)")
    }
}
