import Foundation
import MedleyProtocol
import Testing

@testable import MedleyEventLog

@Suite struct EventLogReaderTests {
    /// 60 records over several segments; record `i` (sequence `i + 1`) was received at
    /// `10_000 + i * 100`.
    private func populatedLog(_ directory: TemporaryDirectory) throws {
        let writer = try EventLogWriter(directory: directory.log, configuration: EventLogConfiguration(maxSegmentBytes: 500))
        for index in 0..<60 { _ = try writer.append([makeEvent(index)], receivedAtMs: 10_000 + Int64(index) * 100) }
        try writer.close()
        #expect(try directory.segmentNames().count > 4)
    }

    @Test func readsFromAMiddleSequence() throws {
        let directory = try TemporaryDirectory()
        try populatedLog(directory)
        for start in [1, 2, 17, 33, 59, 60] as [UInt64] {
            let entries = try readAll(directory.log, from: start)
            #expect(entries.map(\.record.sequence) == Array(start...60))
            #expect(entries.first?.record.event == makeEvent(Int(start) - 1))
        }
        #expect(try readAll(directory.log, from: 61).isEmpty)
        #expect(try readAll(directory.log, from: 1000).isEmpty)
    }

    /// A reader hands out each record's bytes as the writer wrote them, so that a replay
    /// forwards what the log holds instead of encoding the record again.
    @Test func entriesCarryTheBytesTheWriterWrote() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: EventLogConfiguration(maxSegmentBytes: 500))
        var written: [[UInt8]] = []
        for index in 0..<20 {
            let batch = EventLogBatch(events: [makeEvent(index), makeEvent(index + 100)], receivedAtMs: 10_000 + Int64(index))
            written += try writer.appendGroupKeepingRecords([batch])[0].get().records.records
        }
        try writer.close()
        let entries = try readAll(directory.log, from: 1)
        #expect(entries.map(\.bytes) == written)
        for entry in entries {
            #expect(try Medley_V1_EventLogRecord(serializedBytes: entry.bytes) == entry.record)
        }
    }

    @Test func readsATimeWindow() throws {
        let directory = try TemporaryDirectory()
        try populatedLog(directory)
        let window: Range<Int64> = 12_050..<14_000  // records 21...39
        let reader = EventLogReader(directory: directory.log)
        try reader.seek(toReceivedAtMs: window.lowerBound)
        var entries: [EventLogReader.Entry] = []
        while let entry = try reader.next(in: window) { entries.append(entry) }
        #expect(entries.map(\.record.event) == makeEvents(21..<40))

        // By the event's own timestamp: makeEvent(i) happened at base + i s.
        let base: Int64 = 1_764_374_400_000
        let byEventTime = EventLogReader(directory: directory.log)
        var events: [Medley_V1_SessionEvent] = []
        while let entry = try byEventTime.next(in: base + 50_000..<base + 55_000, by: .eventTimestamp) { events.append(entry.record.event) }
        #expect(events == makeEvents(50..<55))
    }

    @Test func emptyOrMissingLogReadsNothing() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.log, withIntermediateDirectories: true)
        #expect(try readAll(directory.log).isEmpty)
        try EventLogWriter(directory: directory.log).close()
        #expect(try readAll(directory.log).isEmpty)
    }

    @Test func stopsAtATornTailAndResumesWhenItIsComplete() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        _ = try writer.append(makeEvents(0..<3), receivedAtMs: 1)
        try writer.close()
        let path = directory.segmentPath(1)
        let complete = try fileBytes(path)
        try truncateFile(path, to: complete.count - 5)

        let reader = EventLogReader(directory: directory.log)
        #expect(try reader.next()?.record.sequence == 1)
        #expect(try reader.next()?.record.sequence == 2)
        #expect(try reader.next() == nil)
        #expect(reader.nextSequence == 3)
        // The rest of the record arrives: the reader continues where it stopped.
        try writeFile(path, complete)
        #expect(try reader.next()?.record.sequence == 3)
        #expect(try reader.next() == nil)
    }

    /// The writer adds records to the segment the reader has just found at its end, and rolls
    /// to a new one, before the reader looks for a later segment: the reader reads those
    /// records, then the new segment (it used to report a sequence gap).
    @Test func recordsAddedToASegmentJustBeforeItIsSealedAreRead() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: EventLogConfiguration(syncPolicy: .never, maxSegmentBytes: 600))
        _ = try writer.append([makeEvent(0)], receivedAtMs: 1)
        let reader = EventLogReader(directory: directory.log)
        #expect(try reader.next()?.record.sequence == 1)
        #expect(try reader.next() == nil)
        var rolled = false
        reader.beforeListingSegments = {
            guard !rolled else { return }
            rolled = true
            for index in 1..<40 { _ = try? writer.append([makeEvent(index)], receivedAtMs: 1) }
        }
        var sequences: [UInt64] = []
        while let entry = try reader.next() { sequences.append(entry.record.sequence) }
        try writer.close()
        #expect(rolled)
        #expect(try directory.segmentNames().count >= 2)
        #expect(sequences == Array(2...40))
    }

    /// A reader beside a writer that rolls segments now and then, and often.
    @Test(arguments: [4096, 512])
    func concurrentReaderSeesAPrefix(segmentBytes: Int) throws {
        let directory = try TemporaryDirectory()
        let total = 3000
        let writerDone = DispatchSemaphore(value: 0)
        let writer = try EventLogWriter(directory: directory.log, configuration: EventLogConfiguration(syncPolicy: .never, maxSegmentBytes: segmentBytes))
        let path = directory.log
        // The writer is handed to its own thread and never used here again.
        nonisolated(unsafe) let handedOver = writer
        Thread {
            do {
                for index in stride(from: 0, to: total, by: 7) {
                    _ = try handedOver.append(makeEvents(index..<min(index + 7, total)), receivedAtMs: Int64(index))
                }
                try handedOver.close()
            } catch {
                Issue.record("writer thread failed: \(error)")
            }
            writerDone.signal()
        }.start()

        let reader = EventLogReader(directory: path)
        var seen = 0
        var finished = false
        while seen < total {
            if let entry = try reader.next() {
                #expect(entry.record.sequence == UInt64(seen + 1))
                #expect(entry.record.event.itemID == "item-\(seen)")
                seen += 1
            } else if finished {
                break
            } else {
                finished = writerDone.wait(timeout: .now() + .milliseconds(1)) == .success
            }
        }
        #expect(seen == total)
        #expect(try reader.next() == nil)
    }
}
