/// What opening a log found and repaired: logged by the writer, and returned so the service
/// can report it (health, metrics) and know where the log resumes.
public struct RecoveryReport: Sendable, Equatable {
    /// The segments found, after removing incomplete ones.
    public var segmentCount: Int
    /// The path of the last segment, which the writer appends to; nil for a new log.
    public var lastSegment: String?
    /// Valid records kept in the last segment.
    public var recordsKept: UInt64
    /// Bytes cut from the end of the last segment (a torn or corrupt tail); 0 if none.
    public var bytesCut: UInt64
    /// Zero bytes trimmed after the last segment's last record: the space the writer writes
    /// ahead (``EventLogConfiguration/preallocationBytes``) and had not used, not damage.
    public var zeroBytesTrimmed: UInt64 = 0
    /// The offset the last segment was cut at, if it was.
    public var cutOffset: UInt64?
    /// Why the tail was cut: the first invalid record's defect.
    public var cutReason: RecordDefect?
    /// Files removed: segments whose header was never completely written, and segments
    /// that were still being created.
    public var removedFiles: [String]
    /// The sequence the next appended record gets.
    public var nextSequence: UInt64
    /// Where the cut bytes were saved when valid records followed the damage (they may hold
    /// acknowledged events); nil for a torn tail, which holds none.
    public var movedAside: String? = nil

    /// Whether recovery had to cut or remove anything.
    public var repairedAnything: Bool { bytesCut > 0 || !removedFiles.isEmpty }
}
