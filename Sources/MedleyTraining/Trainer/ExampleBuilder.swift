import Foundation
import MedleyModel

/// One prediction to learn or check: the event at `target` of the ``EventTable``, predicted
/// from its user's learned vector and the events `sessionStart..<target` of its session.
struct TrainingExample: Sendable, Equatable {
    var target: Int32
    var sessionStart: Int32
}

/// Walks each user's chronological stream and makes examples, and turns an example into the
/// model's input exactly as ``InputEncoder`` would for the same events at serving time.
///
/// Every event of a user after the first is a target: the state before it (the user's vector,
/// the session so far, possibly empty after a gap) predicts it. The first event of a user is
/// not a target, since nothing precedes it. Each target trains the head of its domain, the
/// session head and the next-domain classifier.
struct ExampleBuilder: Sendable {
    let model: ModelConfiguration
    let maxSessionLength: Int

    /// Splits the table's targets into training and validation examples by `split`
    /// (the rules are documented on ``ValidationSplit``).
    func examples(_ table: EventTable, split: ValidationSplit) -> (training: [TrainingExample], validation: [TrainingExample]) {
        var training: [TrainingExample] = [], validation: [TrainingExample] = []
        training.reserveCapacity(table.count)
        var timeCut = Int64.max
        if case .timeFraction(let fraction) = split {
            let sorted = table.timestamps.sorted()
            let index = min(sorted.count - 1, Int((1 - fraction) * Double(sorted.count)))
            timeCut = sorted[index]
        }
        for range in table.userRanges where range.count >= 2 {
            var heldOutFrom = range.upperBound
            if case .lastEventsPerUser(let n) = split, range.count >= n + 2 {
                heldOutFrom = range.upperBound - n
            }
            for t in (range.lowerBound + 1)..<range.upperBound {
                let example = self.example(target: t, table: table)
                if t >= heldOutFrom || table.timestamps[t] >= timeCut {
                    validation.append(example)
                } else {
                    training.append(example)
                }
            }
        }
        return (training, validation)
    }

    private func example(target t: Int, table: EventTable) -> TrainingExample {
        let session = max(Int(table.sessionStarts[t]), t - maxSessionLength)
        return TrainingExample(target: Int32(t), sessionStart: Int32(session))
    }

    /// The model input of an example. The request time is the target's time, so recency and
    /// the context features describe the moment of the prediction.
    func encodedInput(_ example: TrainingExample, table: EventTable) -> EncodedInput {
        let t = Int(example.target)
        let session = Int(example.sessionStart)..<t
        let reference = table.timestamps[t]
        let halfLife = Double(model.recencyHalfLifeSeconds)
        // Double precision, normalised by Σ|w|, rounded once: the rule of models/README.md.
        var raw = [Double](repeating: 0, count: session.count)
        var norm = 0.0
        for (k, i) in session.enumerated() {
            let age = Double(max(0, reference - table.timestamps[i])) / 1000
            raw[k] = Double(table.weight(of: i, eventWeights: model.eventWeights)) * pow(0.5, age / halfLife)
            norm += abs(raw[k])
        }
        let weights = raw.map { norm > 0 ? Float($0 / norm) : 0 }
        var slots = [Int?](repeating: nil, count: model.lastItemSlots)
        for slot in 0..<min(model.lastItemSlots, session.count) {
            slots[slot] = Int(table.itemRows[t - 1 - slot])
        }
        return EncodedInput(
            userRow: Int(table.userRows[t]), foldInRows: [],
            sessionRows: session.map { Int(table.itemRows[$0]) }, sessionWeights: weights,
            lastItemRows: slots, context: ExampleBuilder.context(timestampMilliseconds: reference, dimension: model.contextDimension),
            sequenceRows: sequenceRange(example, table: table).map { Int(table.itemRows[$0]) },
            recentHistoryRows: recentHistoryEvents(example, table: table).map { Int(table.itemRows[$0]) })
    }

    /// The user's newest events before the example's (capped) session, newest first, at most
    /// ``SequentialRulesTable/maxDepth``: the newest items the serving encoder finds in the
    /// history (every earlier event of the user is history or session at serving time); none
    /// for a session that starts with the user's first event.
    func recentHistoryEvents(_ example: TrainingExample, table: EventTable) -> [Int] {
        let newest = Int(example.sessionStart) - 1
        let first = table.userRanges[Int(table.userRows[Int(example.target)])].lowerBound
        guard newest >= first else { return [] }
        return Array(stride(from: newest, through: max(first, newest - SequentialRulesTable.maxDepth + 1), by: -1))
    }

    /// The events the session attention reads before the example's target: the newest n of its
    /// (capped) session, or of its user (every earlier event of the user is history or session
    /// at serving time).
    func sequenceRange(_ example: TrainingExample, table: EventTable) -> Range<Int> {
        let t = Int(example.target)
        guard let shape = model.sessionEncoder else { return t..<t }
        let start: Int
        switch shape.input {
        case .session: start = Int(example.sessionStart)
        case .history: start = table.userRanges[Int(table.userRows[t])].lowerBound
        }
        return max(start, t - shape.length)..<t
    }

    /// The default context features, or none for a model without context.
    static func context(timestampMilliseconds: Int64, dimension: Int) -> [Float] {
        dimension == 0 ? [] : ContextFeatures.encode(timestampMilliseconds: timestampMilliseconds)
    }
}
