import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining

/// The session attention's training windows: every example reads the newest items of what
/// serving would read, as many as the window stride guarantees, and one pass per window gives
/// each example the output a pass over its own input gives.
@Suite struct SequenceChunksTests {
    typealias F = TrainerFixtures

    /// alice: one session of 23 events; bob: 5 events, a 2-hour gap, then 12 events.
    private var stream: [Medley_V1_SessionEvent] {
        var events: [Medley_V1_SessionEvent] = []
        for i in 0..<23 {
            events.append(F.event("alice", i % 3 == 0 ? "video" : "music", "i\(i % 9)", at: Int64(i) * F.minute))
        }
        for i in 0..<17 {
            let time = Int64(i) * F.minute + (i >= 5 ? 2 * F.hour : 0)
            events.append(F.event("bob", i % 2 == 0 ? "video" : "music", "i\((i * 4) % 11)", at: time))
        }
        return events
    }

    private func data(stride: Int?, input: AttentionSequence) throws -> TrainingData {
        var configuration = F.configuration()
        configuration.model.sessionEncoder = SessionEncoderShape(length: 6, blocks: 1, heads: 1, input: input)
        configuration.attentionWindowStride = stride
        return try TrainingData(events: stream, configuration: configuration)
    }

    @Test(arguments: [(nil, 3), (6, 6), (2, 2), (1, 1)] as [(Int?, Int)], [AttentionSequence.session, .history])
    func everyExampleReadsTheNewestItemsOfItsServingInput(stride: (given: Int?, effective: Int), input: AttentionSequence) throws {
        let (given, effective) = stride
        let data = try data(stride: given, input: input)
        let chunks = try #require(data.sequenceChunks)
        #expect(chunks.stride == effective)
        let n = chunks.length
        var shortest = Int.max
        for example in data.trainingExamples {
            let served = data.encodedInput(example).sequenceRows
            guard let start = chunks.chunkStart(example, table: data.table) else {
                #expect(served.isEmpty)
                continue
            }
            let window = (start..<Int(example.target)).map { Int(data.table.itemRows[$0]) }
            #expect(window.count <= n)
            #expect(window == Array(served.suffix(window.count)))
            // Serving reads n items once the session has them; training reads at least n − h + 1.
            #expect(window.count >= min(served.count, n - effective + 1))
            if served.count == n { shortest = min(shortest, window.count) }
        }
        // The guarantee is tight: some example past the first window reads exactly n − h + 1.
        #expect(shortest == n - effective + 1)
    }

    /// The chunks partition the examples in order; a chunk's examples share one window.
    @Test(arguments: [nil, 6, 1] as [Int?])
    func chunksPartitionTheExamples(stride: Int?) throws {
        let data = try data(stride: stride, input: .session)
        let chunks = try #require(data.sequenceChunks)
        #expect(chunks.ranges.first?.lowerBound == 0)
        #expect(chunks.ranges.last?.upperBound == data.trainingExamples.count)
        for (a, b) in zip(chunks.ranges, chunks.ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        var previous: Int?? = .none
        for range in chunks.ranges {
            let starts = Set(range.map { chunks.chunkStart(data.trainingExamples[$0], table: data.table) })
            #expect(starts.count == 1)
            if let start = starts.first, let start, case let earlier?? = previous { #expect(start != earlier) }
            previous = starts.first
        }
    }

    /// One pass per window (a slice cut across windows, as batches and shards cut them) gives
    /// every example the attention output of a pass over its own input items.
    @Test(arguments: [nil, 6] as [Int?], [SessionEncoderKind.attention, .gru])
    func onePassPerWindowEqualsOnePassPerExample(stride: Int?, kind: SessionEncoderKind) throws {
        let data = try data(stride: stride, input: .session)
        var configuration = F.configuration()
        configuration.model.sessionEncoder = SessionEncoderShape(kind: kind, length: 6, blocks: 1, heads: 1, input: .session)
        let contents = try ModelFileContents.initialized(configuration: configuration.model, catalog: data.catalog,
                                                         users: data.users, seed: 3)
        let encoder = try #require(try MultitaskModel(contents).network.sessionEncoder)
        let chunks = try #require(data.sequenceChunks)
        let slice = data.trainingExamples[3..<(data.trainingExamples.count - 2)]
        let pieces = EncoderPieces(slice, seeds: slice.indices.map { UInt64($0) }, data: data, chunks: chunks,
                                     encoder: encoder, parameters: contents.parameters, dropoutRate: 0)
        let d = encoder.dimension
        for (i, example) in slice.enumerated() {
            guard let start = chunks.chunkStart(example, table: data.table) else {
                #expect(pieces.output(forExample: i, dimension: d) == nil)
                continue
            }
            let rows = (start..<Int(example.target)).map { Int(data.table.itemRows[$0]) }
            let alone = encoder.forward(rows, parameters: contents.parameters).output.suffix(d)
            let shared = try #require(pieces.output(forExample: i, dimension: d))
            for (a, b) in zip(shared, alone) { #expect(abs(a - b) <= 1e-5) }
        }
    }

    @Test func refusesAStrideOutsideTheWindow() throws {
        var configuration = F.configuration()
        configuration.model.sessionEncoder = SessionEncoderShape(length: 6, blocks: 1, heads: 1, input: .session)
        for stride in [0, 7] {
            configuration.attentionWindowStride = stride
            #expect(throws: TrainingError.self) { try TrainingData(events: stream, configuration: configuration) }
        }
    }
}
