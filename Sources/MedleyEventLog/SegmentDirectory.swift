/// The segment files of a log directory, in sequence order.
struct SegmentDirectory {
    /// One segment file.
    struct Segment: Equatable {
        /// The sequence of its first record, from the file name.
        var firstSequence: UInt64
        var path: String
    }

    /// Suffix of a segment that is being created: written and synced under this name, then
    /// renamed, so a segment name never stands for a half-written header.
    static let temporarySuffix = ".tmp"

    let path: String

    init(path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    func segmentPath(firstSequence: UInt64) -> String {
        path + "/" + SegmentFormat.fileName(firstSequence: firstSequence)
    }

    /// The segments, sorted by first sequence. Other files are ignored.
    func segments() throws(EventLogError) -> [Segment] {
        try LogFileSystem.entries(of: path)
            .compactMap { name in
                SegmentFormat.firstSequence(fileName: name).map { Segment(firstSequence: $0, path: path + "/" + name) }
            }
            .sorted { $0.firstSequence < $1.firstSequence }
    }

    /// Segments that were being created when the writer stopped.
    func temporaryFiles() throws(EventLogError) -> [String] {
        try LogFileSystem.entries(of: path)
            .filter { name in
                name.hasSuffix(Self.temporarySuffix)
                    && SegmentFormat.firstSequence(fileName: String(name.dropLast(Self.temporarySuffix.count))) != nil
            }
            .map { path + "/" + $0 }
    }

    /// The index of the segment that holds `sequence`: the last one starting at or before it
    /// (or the first segment, when `sequence` precedes the log).
    static func index(of sequence: UInt64, in segments: [Segment]) -> Int? {
        guard !segments.isEmpty else { return nil }
        var low = 0
        var high = segments.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if segments[middle].firstSequence <= sequence { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
