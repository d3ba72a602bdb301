/// How an event log writes, syncs and rolls. Every member has a default that suits the
/// service; `protocol/event-log.md` states what each sync policy guarantees.
public struct EventLogConfiguration: Sendable, Equatable {
    /// When appended records are made durable, and so when they may be acknowledged.
    public enum SyncPolicy: Sendable, Equatable {
        /// Every group of appends is synced (`fdatasync`) before any of it is acknowledged.
        /// Nothing acknowledged is lost, by a process crash or a machine crash. Concurrent
        /// producers still share a sync: whatever queued while one sync ran goes in the next.
        case always
        /// Also acknowledges only after a sync, but after a sync waits up to this many
        /// milliseconds for more appends before the next one, so that under load many groups
        /// share one sync. Same guarantee as ``always``; fewer syncs for up to this much more
        /// latency. A lone append after a quiet period is synced at once.
        case interval(milliseconds: Int)
        /// Acknowledges once `write(2)` returned; the operating system writes back when it
        /// chooses. A crash of the process loses nothing (the data is in the kernel), but a
        /// crash or power loss of the machine can lose acknowledged events. Rolls and
        /// ``EventLogWriter/close()`` still sync.
        case never
    }

    /// When records are synced; default ``SyncPolicy/always``.
    public var syncPolicy: SyncPolicy
    /// A segment is sealed and a new one started before a record would take it past this
    /// size; default 64 MiB. A single record larger than this gets a segment of its own.
    public var maxSegmentBytes: Int
    /// The largest record payload written or read; default 1 MiB. Readers use the same limit
    /// to refuse a corrupt length before allocating anything.
    public var maxRecordBytes: Int
    /// How many sealed segments before the last one recovery reads through and checks, newest
    /// first; default 1. Sealed segments were synced before the next one was created, so they
    /// cannot have a torn tail; this looks for corruption at start-up instead of when a
    /// reader reaches it. `Int.max` checks the whole log.
    public var verifiedSealedSegments: Int
    /// Which old segments the writer deletes (when it opens the log and each time it seals a
    /// segment); default: none, the log keeps everything.
    public var retention = LogRetention()
    /// Zeros the writer writes ahead of the last record, so that a sync overwrites blocks the
    /// file already has: `fdatasync` then flushes the data alone, where a file that grows
    /// must also commit its new size to the file system's journal (on ext4 here, 0.11–0.16
    /// against 0.19–0.22 ms a sync of 10 events; BENCHMARKS.md). Default 4 MiB; 0 writes none.
    /// Writing them may fail (a full disk) without failing the records. They are cut when a segment is
    /// sealed or the log closed, and recovery trims them (`protocol/event-log.md`).
    public var preallocationBytes = 4 << 20

    public init(
        syncPolicy: SyncPolicy = .always,
        maxSegmentBytes: Int = 64 << 20,
        maxRecordBytes: Int = SegmentFormat.defaultMaxRecordBytes,
        verifiedSealedSegments: Int = 1
    ) {
        self.syncPolicy = syncPolicy
        self.maxSegmentBytes = maxSegmentBytes
        self.maxRecordBytes = maxRecordBytes
        self.verifiedSealedSegments = verifiedSealedSegments
    }

    /// Throws for values the log cannot work with.
    public func validate() throws(EventLogError) {
        if maxSegmentBytes <= SegmentFormat.headerSize {
            throw .invalidConfiguration("maxSegmentBytes \(maxSegmentBytes) must exceed the \(SegmentFormat.headerSize)-byte segment header")
        }
        if maxRecordBytes < 1 || maxRecordBytes > Int(UInt32.max) {
            throw .invalidConfiguration("maxRecordBytes \(maxRecordBytes) must be in 1...\(UInt32.max)")
        }
        if verifiedSealedSegments < 0 {
            throw .invalidConfiguration("verifiedSealedSegments must not be negative")
        }
        if preallocationBytes < 0 {
            throw .invalidConfiguration("preallocationBytes must not be negative")
        }
        if let age = retention.maxAgeMilliseconds, age <= 0 {
            throw .invalidConfiguration("retention age \(age) ms must be positive")
        }
        if retention.maxBytes == 0 {
            throw .invalidConfiguration("retention size must be positive")
        }
        if case .interval(let milliseconds) = syncPolicy, milliseconds < 0 {
            throw .invalidConfiguration("sync interval \(milliseconds) ms must not be negative")
        }
    }
}
