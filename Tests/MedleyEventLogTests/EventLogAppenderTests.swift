import Foundation
import MedleyProtocol
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import MedleyEventLog

@Suite struct EventLogAppenderTests {
    @Test func concurrentProducersGetContiguousUniqueSequences() throws {
        let directory = try TemporaryDirectory()
        let appender = try EventLogAppender(directory: directory.log, configuration: EventLogConfiguration(maxSegmentBytes: 8192))
        let producers = 8
        let batchesPerProducer = 40
        let collected = Mutex<[UInt64: String]>([:])
        let done = DispatchSemaphore(value: 0)
        for producer in 0..<producers {
            Thread {
                for batch in 0..<batchesPerProducer {
                    let user = "p\(producer)"
                    let events = makeEvents(batch * 3..<batch * 3 + 3, user: user)
                    let finished = DispatchSemaphore(value: 0)
                    appender.submit(EventLogBatch(events: events, receivedAtMs: 1)) { result in
                        switch result {
                        case .success(let positions):
                            collected.withLock { map in
                                for (event, position) in zip(events, positions) {
                                    #expect(map.updateValue("\(event.userID)/\(event.itemID)", forKey: position.sequence) == nil)
                                }
                            }
                        case .failure(let error):
                            Issue.record("append failed: \(error)")
                        }
                        finished.signal()
                    }
                    finished.wait()
                }
                done.signal()
            }.start()
        }
        for _ in 0..<producers { done.wait() }
        let statistics = appender.statistics
        try appender.close()

        let acknowledged = collected.withLock { $0 }
        let count = producers * batchesPerProducer * 3
        #expect(acknowledged.keys.sorted() == Array(1...UInt64(count)))
        let entries = try readAll(directory.log)
        #expect(entries.count == count)
        for entry in entries {
            #expect(acknowledged[entry.record.sequence] == "\(entry.record.event.userID)/\(entry.record.event.itemID)")
        }
        // Group commit: producers waiting at the same time shared syncs.
        #expect(statistics.syncs <= UInt64(producers * batchesPerProducer))
        #expect(try directory.segmentNames().count > 1)
    }

    @Test func intervalPolicySharesSyncs() throws {
        let directory = try TemporaryDirectory()
        let appender = try EventLogAppender(
            directory: directory.log, configuration: EventLogConfiguration(syncPolicy: .interval(milliseconds: 300))
        )
        let appends = 30
        let remaining = DispatchSemaphore(value: 0)
        for index in 0..<appends {
            appender.submit(EventLogBatch(events: [makeEvent(index)], receivedAtMs: Int64(index))) { result in
                #expect((try? result.get())?.first?.sequence == UInt64(index + 1))
                remaining.signal()
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        for _ in 0..<appends { remaining.wait() }
        let statistics = appender.statistics
        #expect(statistics.records == UInt64(appends))
        // All 30 arrive within one interval after the first sync: at most a few syncs, by count.
        #expect(statistics.syncs < UInt64(appends) / 3, "syncs: \(statistics.syncs)")
        #expect(appender.lastSyncedSequence == UInt64(appends))
        try appender.close()
        #expect(try readAll(directory.log).count == appends)
    }

    @Test func alwaysPolicySyncsBeforeAcknowledging() async throws {
        let directory = try TemporaryDirectory()
        let appender = try EventLogAppender(directory: directory.log)
        for index in 0..<5 {
            let positions = try await appender.append([makeEvent(index)], receivedAtMs: 1)
            #expect(positions.map(\.sequence) == [UInt64(index + 1)])
            #expect(appender.lastSyncedSequence >= positions[0].sequence)
            // Acknowledged means readable by anyone, now.
            #expect(try readAll(directory.log).count == index + 1)
        }
        #expect(appender.statistics.syncs == 5)
        try appender.close()
    }

    @Test func neverPolicyDoesNotSync() throws {
        let directory = try TemporaryDirectory()
        let appender = try EventLogAppender(directory: directory.log, configuration: EventLogConfiguration(syncPolicy: .never))
        let finished = DispatchSemaphore(value: 0)
        for index in 0..<10 {
            appender.submit(EventLogBatch(events: [makeEvent(index)], receivedAtMs: 1)) { _ in finished.signal() }
        }
        for _ in 0..<10 { finished.wait() }
        #expect(appender.statistics.syncs == 0)
        try appender.close()
        #expect(try readAll(directory.log).count == 10)
    }

    /// The broker's loop polls the mailbox's descriptor next to its sockets (`zmq_poll` takes
    /// plain descriptors); `poll(2)` stands in for it here.
    @Test func mailboxWakesAPollLoop() throws {
        let directory = try TemporaryDirectory()
        let appender = try EventLogAppender(directory: directory.log)
        let mailbox = try EventLogCompletionMailbox<Int>()
        func poll(milliseconds: Int32) -> Bool {
            var item = pollfd(fd: mailbox.fileDescriptor, events: Int16(POLLIN), revents: 0)
            return Glibc.poll(&item, 1, milliseconds) == 1 && item.revents & Int16(POLLIN) != 0
        }
        #expect(!poll(milliseconds: 0))

        for token in 0..<20 {
            appender.submit(EventLogBatch(events: [makeEvent(token)], receivedAtMs: 1), token: token, to: mailbox)
        }
        var completions: [EventLogCompletionMailbox<Int>.Completion] = []
        let deadline = Date().addingTimeInterval(10)
        while completions.count < 20, Date() < deadline {
            if poll(milliseconds: 1000) { completions += mailbox.drain() }
        }
        #expect(completions.map(\.token) == Array(0..<20))
        for completion in completions {
            #expect((try? completion.result.get())?.first?.sequence == UInt64(completion.token + 1))
        }
        // Drained: the descriptor is quiet again.
        #expect(!poll(milliseconds: 20))
        #expect(mailbox.drain().isEmpty)
        try appender.close()
    }

    /// A completion in a mailbox carries the records as the log wrote them, so that whoever
    /// forwards them sends exactly what the log holds.
    @Test func mailboxCompletionsCarryTheRecordsTheLogWrote() throws {
        let directory = try TemporaryDirectory()
        let appender = try EventLogAppender(directory: directory.log)
        let mailbox = try EventLogCompletionMailbox<Int>()
        let receipt = Medley_V1_IngestReceipt.with { $0.idempotencyKey = "key-1" }
        appender.submit(EventLogBatch(events: makeEvents(0..<3), receivedAtMs: 42, receipt: receipt), token: 1, to: mailbox)
        var completions: [EventLogCompletionMailbox<Int>.Completion] = []
        let deadline = Date().addingTimeInterval(10)
        while completions.isEmpty, Date() < deadline {
            var item = pollfd(fd: mailbox.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if Glibc.poll(&item, 1, 1000) == 1 { completions += mailbox.drain() }
        }
        try appender.close()
        let completion = try #require(completions.first)
        let positions = try completion.result.get()
        let records = try completion.records.records.map { try Medley_V1_EventLogRecord(serializedBytes: $0) }
        #expect(records.map(\.sequence) == positions.map(\.sequence))
        #expect(records.map(\.event) == makeEvents(0..<3))
        #expect(records.allSatisfy { $0.receivedAtMs == 42 })
        #expect(records.last?.receipt.idempotencyKey == "key-1", "the receipt rides on the last record, as in the log")
        #expect(try readAll(directory.log).map(\.record) == records)
    }

    @Test func closeDrainsAndThenRefuses() throws {
        let directory = try TemporaryDirectory()
        let appender = try EventLogAppender(directory: directory.log, configuration: EventLogConfiguration(syncPolicy: .interval(milliseconds: 50)))
        let results = Mutex<[EventLogAppender.Result]>([])
        for index in 0..<10 {
            appender.submit(EventLogBatch(events: [makeEvent(index)], receivedAtMs: 1)) { result in
                results.withLock { $0.append(result) }
            }
        }
        try appender.close()
        #expect(results.withLock { $0.count } == 10)
        #expect(results.withLock { $0.allSatisfy { (try? $0.get()) != nil } })
        let refused = Mutex<EventLogAppender.Result?>(nil)
        appender.submit(EventLogBatch(events: [makeEvent(10)], receivedAtMs: 1)) { result in refused.withLock { $0 = result } }
        guard case .failure(.closed) = refused.withLock({ $0 }) else {
            Issue.record("expected closed")
            return
        }
        #expect(try readAll(directory.log).count == 10)
    }

    @Test func openFailureIsThrown() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        #expect(expectEventLogError { try EventLogAppender(directory: directory.log) } == .locked(path: directory.log))
        try writer.close()
    }
}
