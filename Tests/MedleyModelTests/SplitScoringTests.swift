import Testing
@testable import MedleyModel

/// A request scored over several threads (its large item blocks split into parts) gets the
/// lists of one thread; the threads it may use are its own and the idle workers'.
@Suite struct SplitScoringTests {
    @Test(arguments: [1, 5])
    func listsScoredInPartsEqualThoseOfOneThread(batchSize: Int) throws {
        // Blocks of 2, 1 and 2 parts at most (8,192 rows per part at least).
        let model = try Fixtures.catalogueModel(itemsPerDomain: [20_000, 9_000, 17_000])
        let inputs = try Fixtures.randomInputs(batchSize, model: model)
        let options = RecommendationOptions(perDomain: 15, session: 40, blended: 15)
        let alone = model.recommend(inputs, options: options, threads: 1)
        for threads in [2, 3, 8] {
            let split = model.recommend(inputs, options: options, threads: threads)
            for (a, s) in zip(alone, split) {
                #expect(s.perDomain.map { $0.map(\.row) } == a.perDomain.map { $0.map(\.row) }, "threads \(threads)")
                #expect(s.session.map(\.row) == a.session.map(\.row), "threads \(threads)")
                #expect(s.session.map(\.score) == a.session.map(\.score), "threads \(threads)")
                #expect(s.blended.map(\.row) == a.blended.map(\.row), "threads \(threads)")
            }
        }
    }

    @Test func blocksSplitOnlyWhereEachPartIsLargeEnough() {
        #expect(SplitScoring.parts(rows: 50_000, threads: 1) == 1)
        #expect(SplitScoring.parts(rows: 50_000, threads: 2) == 2)
        #expect(SplitScoring.parts(rows: 50_000, threads: 16) == 6)
        #expect(SplitScoring.parts(rows: 16_383, threads: 2) == 1)
        #expect(SplitScoring.parts(rows: 5_000, threads: 4) == 1)
    }

    @Test func aWorkerMayUseItselfAndTheIdleWorkers() {
        let cores = IdleWorkerCores(workers: 3)
        let seen = cores.scoring { first in
            cores.scoring { second in
                cores.scoring { third in
                    cores.scoring { fourth in [first, second, third, fourth] }
                }
            }
        }
        #expect(seen == [3, 2, 1, 1])
        // Every worker is idle again once they finished.
        #expect(cores.scoring { $0 } == 3)
    }
}
