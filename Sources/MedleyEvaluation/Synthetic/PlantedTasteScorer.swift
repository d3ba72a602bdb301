import MedleyTraining
/// An oracle for synthetic data: scores items by the planted long-term choice score
/// (sharpness · taste·v + bias, see ``SyntheticDataset``). It knows the answer, so a
/// baseline or model that comes close to it has learned the planted taste; one that
/// popularity beats has learned nothing.
public struct PlantedTasteScorer: Scorer {
    public let name = "planted taste (oracle)"
    // For each user and item index of the evaluated data set, the generation index.
    private let userRow: [Int?]
    private let itemRow: [Int?]
    private let truth: SyntheticDataset.GroundTruth

    /// Aligns the ground truth with the indices of `dataset` (built from the generated events).
    public init(groundTruth: SyntheticDataset.GroundTruth, dataset: SequenceDataset) {
        let userIndex = Dictionary(uniqueKeysWithValues: groundTruth.userIDs.enumerated().map { ($1, $0) })
        let itemIndex = Dictionary(uniqueKeysWithValues: groundTruth.itemIDs.enumerated().map { ($1, $0) })
        self.userRow = dataset.userIDs.map { userIndex[$0] }
        self.itemRow = dataset.itemIDs.map { itemIndex[$0] }
        self.truth = groundTruth
    }

    public func scores(forHistory history: [Int], user: Int) -> [Float] {
        guard let u = userRow[user] else { return [Float](repeating: 0, count: itemRow.count) }
        return itemRow.map { row in row.map { truth.tasteScore(user: u, item: $0) } ?? -.infinity }
    }
}
