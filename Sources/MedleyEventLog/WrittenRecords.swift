/// The records of one batch as the log wrote them (`EventLogRecord` protobuf), in order,
/// back to back in one buffer: a batch's records cost one allocation, not one each, on the
/// log thread and again where they are forwarded.
public struct WrittenRecords: Sendable, Equatable {
    /// The records' bytes, back to back.
    public private(set) var bytes: [UInt8] = []
    /// Where each record ends in `bytes`.
    private var ends: [Int] = []

    public init() {}

    /// Records.
    public var count: Int { ends.count }

    /// The bytes of record `index`.
    public subscript(index: Int) -> ArraySlice<UInt8> {
        bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    /// Each record's bytes copied out.
    public var records: [[UInt8]] { (0..<count).map { Array(self[$0]) } }

    /// Appends a record that `write` appends to the buffer it is given; returns its size.
    /// When `write` throws, what it appended is taken away again.
    @discardableResult
    mutating func append(_ write: (inout [UInt8]) throws -> Void) rethrows -> Int {
        let start = bytes.count
        do {
            try write(&bytes)
        } catch {
            bytes.removeSubrange(start...)
            throw error
        }
        ends.append(bytes.count)
        return bytes.count - start
    }

    mutating func reserveCapacity(records: Int, bytes byteCount: Int) {
        ends.reserveCapacity(records)
        bytes.reserveCapacity(byteCount)
    }
}
