import Foundation
import MedleyProtocol
import Testing

@testable import MedleyEventLog

/// A fresh directory under the system's temporary directory, removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = #function) throws {
        let name = "medley-eventlog-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)"
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The log directory inside it (not yet created, so the writer creates it).
    var log: String { path + "/log" }

    func segmentPath(_ firstSequence: UInt64) -> String {
        log + "/" + SegmentFormat.fileName(firstSequence: firstSequence)
    }

    /// The segment files of the log, sorted.
    func segmentNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: log).filter { $0.hasSuffix(".log") }.sorted()
    }
}

/// A recognisable event: its item id carries `index`.
func makeEvent(_ index: Int, user: String = "u-1") -> Medley_V1_SessionEvent {
    .with {
        $0.userID = user
        $0.itemID = "item-\(index)"
        $0.domain = ["news", "video", "music"][index % 3]
        $0.type = .view
        $0.timestampMs = 1_764_374_400_000 + Int64(index) * 1000
        $0.dwellMs = UInt32(index % 500)
    }
}

func makeEvents(_ range: Range<Int>, user: String = "u-1") -> [Medley_V1_SessionEvent] {
    range.map { makeEvent($0, user: user) }
}

/// Every entry a new reader finds from `sequence` on.
func readAll(_ directory: String, from sequence: UInt64 = 0) throws -> [EventLogReader.Entry] {
    let reader = EventLogReader(directory: directory)
    try reader.seek(toSequence: sequence)
    var entries: [EventLogReader.Entry] = []
    while let entry = try reader.next() { entries.append(entry) }
    return entries
}

/// The whole contents of a file.
func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Cuts a file to `size` bytes.
func truncateFile(_ path: String, to size: Int) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: UInt64(size))
    try handle.close()
}

func appendToFile(_ path: String, _ bytes: [UInt8]) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(bytes))
    try handle.close()
}

/// Expects `body` to throw an ``EventLogError`` and returns it.
@discardableResult
func expectEventLogError<R>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R) -> EventLogError? {
    do {
        _ = try body()
        Issue.record("expected an EventLogError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as EventLogError {
        return error
    } catch {
        Issue.record("expected an EventLogError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
