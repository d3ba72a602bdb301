import MedleyModel
import MedleyProtocol

/// A stream of events made ready for training: the vocabularies, the events grouped by user
/// in time order and cut into sessions, and the training and validation examples.
///
/// Built once and shared by several trainings (a multitask model and its single-task
/// baselines see exactly the same examples).
public struct TrainingData: Sendable {
    /// The domains, in the model's order.
    public let domains: [String]
    /// Every item of the stream, each domain's items one block of rows (first appearance order).
    public let catalog: ItemCatalog
    /// Every user of the stream (first appearance order).
    public let users: UserVocabulary
    /// Per item row, how often it is a training target (the negative sampler's basis).
    public let itemCounts: [Int]
    /// What was read and made.
    public let statistics: Statistics

    let table: EventTable
    let builder: ExampleBuilder
    let sessionGapMilliseconds: Int64
    let validationSplit: ValidationSplit
    let trainingExamples: [TrainingExample]
    let validationExamples: [TrainingExample]
    /// The training examples cut for whole-sequence training of the session attention; nil
    /// for a model without it.
    let sequenceChunks: SequenceChunks?

    /// Counts describing the data, for the training summary.
    public struct Statistics: Sendable, Equatable {
        /// Events in the stream, and those refused (by reason).
        public var eventsRead: Int
        public var dropped: DroppedEvents
        public var sessions: Int
        public var trainingExamples: Int
        public var validationExamples: Int
        /// Training examples per domain of their target.
        public var trainingExamplesPerDomain: [Int]
    }

    /// Reads `events` (in log order; each user's events in time order, ties broken by stream
    /// order) with the configuration's domains, session gap, session length and validation split.
    public init(events: [Medley_V1_SessionEvent], configuration: TrainingConfiguration) throws(TrainingError) {
        try configuration.validate()
        let model = configuration.model
        let (table, catalog, users, dropped) = try EventTable.build(
            from: events, domains: model.domains, sessionGap: configuration.sessionGapMilliseconds)
        let builder = ExampleBuilder(model: model, maxSessionLength: configuration.maxSessionLength)
        let (training, validation) = builder.examples(table, split: configuration.validation)
        guard !training.isEmpty else { throw .noTrainingExamples }

        var counts = [Int](repeating: 0, count: catalog.count)
        var perDomain = [Int](repeating: 0, count: model.domains.count)
        for example in training {
            let row = Int(table.itemRows[Int(example.target)])
            counts[row] += 1
            perDomain[catalog.domainOfItem[row]] += 1
        }
        var sessions = 0
        for i in 0..<table.count where Int(table.sessionStarts[i]) == i { sessions += 1 }

        self.domains = model.domains
        self.catalog = catalog
        self.users = users
        self.itemCounts = counts
        self.table = table
        self.builder = builder
        self.sessionGapMilliseconds = configuration.sessionGapMilliseconds
        self.validationSplit = configuration.validation
        self.trainingExamples = training
        self.validationExamples = validation
        self.sequenceChunks = model.sessionEncoder.map {
            SequenceChunks(examples: training, table: table, shape: $0, stride: configuration.attentionWindowStride(for: $0))
        }
        self.statistics = Statistics(
            eventsRead: events.count, dropped: dropped, sessions: sessions,
            trainingExamples: training.count, validationExamples: validation.count,
            trainingExamplesPerDomain: perDomain)
    }

    /// The target's item row and domain of an example.
    func target(_ example: TrainingExample) -> (row: Int, domain: Int) {
        let row = Int(table.itemRows[Int(example.target)])
        return (row, catalog.domainOfItem[row])
    }

    func encodedInput(_ example: TrainingExample) -> EncodedInput {
        builder.encodedInput(example, table: table)
    }
}
