import Foundation
import Synchronization
import Testing
@testable import MedleyTraining

/// Pieces of work under a core limit: every piece once, never more at a time than the limit,
/// in index order on the caller with one core.
@Suite struct CoreLimitedWorkTests {
    @Test(arguments: [0, 1, 2, 3, 5])
    func everyPieceRunsOnceAndNoMoreAtATimeThanTheCores(cores: Int) {
        for count in [0, 1, 2, 3, 7] {
            let done = Mutex<[Int]>([])
            let running = Mutex((now: 0, most: 0))
            CoreLimitedWork.perform(count, cores: cores) { i in
                running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                usleep(2_000)
                running.withLock { $0.now -= 1 }
                done.withLock { $0.append(i) }
            }
            #expect(done.withLock { $0 }.sorted() == Array(0..<count), "\(count) pieces on \(cores) cores")
            #expect(running.withLock { $0.most } <= max(1, cores), "\(count) pieces on \(cores) cores")
        }
    }

    @Test func oneCoreRunsThePiecesInOrderOnTheCallingThread() {
        let caller = pthread_self()
        let seen = Mutex<[(index: Int, onCaller: Bool)]>([])
        CoreLimitedWork.perform(6, cores: 1) { i in
            let onCaller = pthread_equal(pthread_self(), caller) != 0
            seen.withLock { $0.append((i, onCaller)) }
        }
        let pieces = seen.withLock { $0 }
        #expect(pieces.map(\.index) == Array(0..<6))
        #expect(pieces.allSatisfy { $0.onCaller })
    }
}
