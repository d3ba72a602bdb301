import MedleySystem

#if canImport(Glibc)
import Glibc
#endif

/// How long the event log keeps its segments, and how much of them: without a policy the
/// log grows for ever. Only whole sealed segments are deleted, oldest first, so the log
/// stays one contiguous run of sequence numbers; the last segment (the one being written)
/// is never deleted. `protocol/event-log.md` says what a reader behind the policy sees.
public struct LogRetention: Sendable, Equatable {
    /// A sealed segment last written longer ago than this is deleted (with every older one);
    /// nil: no age limit.
    public var maxAgeMilliseconds: Int64?
    /// The oldest sealed segments are deleted while all segments together are larger than
    /// this; nil: no size limit.
    public var maxBytes: UInt64?

    public init(maxAgeMilliseconds: Int64? = nil, maxBytes: UInt64? = nil) {
        self.maxAgeMilliseconds = maxAgeMilliseconds
        self.maxBytes = maxBytes
    }

    /// Whether the policy keeps everything.
    public var keepsEverything: Bool { maxAgeMilliseconds == nil && maxBytes == nil }

    /// Deletes the segments the policy lets go; returns their paths, oldest first.
    func apply(to directory: SegmentDirectory, nowMs: Int64) throws(EventLogError) -> [String] {
        guard !keepsEverything else { return [] }
        let segments = try directory.segments()
        let sizes = try segments.map { segment throws(EventLogError) in try Self.status(of: segment.path) }
        var total = sizes.reduce(UInt64(0)) { $0 + $1.bytes }
        var removed: [String] = []
        // Oldest first, never the last segment: the first kept segment ends the run.
        for (segment, status) in zip(segments, sizes).dropLast() {
            let tooOld = maxAgeMilliseconds.map { nowMs - status.modifiedMs > $0 } ?? false
            let tooBig = maxBytes.map { total > $0 } ?? false
            guard tooOld || tooBig else { break }
            try LogFileSystem.remove(segment.path)
            total -= status.bytes
            removed.append(segment.path)
        }
        if !removed.isEmpty { try LogFileSystem.syncDirectory(directory.path) }
        return removed
    }

    /// A segment's size and last modification (its last record's write), from `stat(2)`.
    private static func status(of path: String) throws(EventLogError) -> (bytes: UInt64, modifiedMs: Int64) {
        var info = stat()
        _ = try logSystemCall("stat", path: path) { stat(path, &info) }
        return (UInt64(info.st_size), Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000)
    }
}
