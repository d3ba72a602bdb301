import MedleyModel

/// The training examples an epoch goes through: those that carry the loss of a trained task.
///
/// Every example carries the session head's and the next-domain classifier's loss; a domain
/// head's only those whose target is in its domain. A model that trains one of those two
/// (the multitask model) goes through every example; a single-task domain head only through
/// its domain's, so its batches hold as many of its own examples as a multitask batch holds
/// examples, and its epochs do not spend the forward pass on examples without its loss.
struct LossBearingExamples {
    /// Indices into ``TrainingData/trainingExamples``, in its order.
    let indices: [Int]
    /// With whole-sequence training, the same per chunk of ``SequenceChunks/ranges`` (chunks
    /// left with none are dropped), so that an epoch shuffles chunks as before.
    let chunks: [[Int]]?

    init(_ data: TrainingData, trains: (Task) -> Bool) {
        let everyExample = trains(.session) || trains(.nextDomain)
        let domains = data.domains.indices.map { trains(.domain($0)) }
        func bearsLoss(_ index: Int) -> Bool {
            everyExample || domains[data.target(data.trainingExamples[index]).domain]
        }
        indices = data.trainingExamples.indices.filter(bearsLoss)
        chunks = data.sequenceChunks.map { chunks in
            chunks.ranges.map { $0.filter(bearsLoss) }.filter { !$0.isEmpty }
        }
    }
}
