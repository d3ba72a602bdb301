import Foundation
import Testing

@testable import MedleyService

@Suite("worker model sync")
struct WorkerModelSyncTests {
    @Test func readyAndModelMessagesRoundTrip() throws {
        for message: WorkerMessage in [
            .ready(name: "thread", modelVersion: nil), .ready(name: "process", modelVersion: 42),
            .model(announcement: [1, 2], modelBytes: [UInt8](repeating: 9, count: 100)),
        ] {
            #expect(try WorkerMessage(frames: message.frames) == message)
        }
        #expect(throws: WorkerProtocolError.wrongFrameCount(command: "MODEL", count: 1)) {
            try WorkerMessage(frames: [WorkerMessage.tag, [8], [1]])
        }
        #expect(throws: WorkerProtocolError.self) { try WorkerMessage(frames: [WorkerMessage.tag, [1], Array("w".utf8), [1, 2, 3]]) }
    }

    @Test func onlyWorkerProcessesOnAnotherVersionAreSentTheModelAndResentWhenTheyLag() {
        var sync = WorkerModelSync(resendAfter: .seconds(10))
        let start = ContinuousClock.now
        let thread: [UInt8] = [1], behind: [UInt8] = [2], current: [UInt8] = [3]
        sync.joined(thread, modelVersion: nil)
        sync.joined(behind, modelVersion: 4)
        sync.joined(current, modelVersion: 5)
        #expect(sync.due(current: 5, now: start) == [behind])
        #expect(sync.due(current: 5, now: start.advanced(by: .seconds(1))).isEmpty, "not sent again while it installs")
        #expect(sync.lagging(current: 5, now: start.advanced(by: .seconds(1))).isEmpty)

        // A new version goes to both processes at once.
        #expect(sync.due(current: 6, now: start.advanced(by: .seconds(2))) == [behind, current])
        sync.reported(current, modelVersion: 6)
        sync.reported(thread, modelVersion: 1)
        #expect(sync.due(current: 6, now: start.advanced(by: .seconds(3))).isEmpty)

        // One that still reports the old version after the resend interval lags and is sent again.
        let later = start.advanced(by: .seconds(13))
        #expect(sync.lagging(current: 6, now: later).map(\.worker) == [behind])
        #expect(sync.due(current: 6, now: later) == [behind])
        sync.left(behind)
        #expect(sync.lagging(current: 6, now: later).isEmpty)
    }
}
