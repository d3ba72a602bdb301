import MedleyProtocol

/// Event-log records in log order, packed as the one frame of an EVENTS message: each
/// record's length as a protobuf varint, then its bytes (protocol/README.md, "Worker
/// protocol"). One frame for all the records of a forward, rather than a frame each, spares
/// the broker and the worker a message part, its allocation and its copy per event.
public struct EventRecordPack: Equatable, Sendable {
    /// The frame's bytes.
    public private(set) var bytes: [UInt8] = []
    /// Records packed.
    public private(set) var count = 0

    public init() {}

    public init(_ records: [[UInt8]]) {
        bytes.reserveCapacity(records.reduce(0) { $0 + $1.count + WireFormatWriter.varintSize(UInt64($1.count)) })
        for record in records { append(record) }
    }

    /// Reads a frame, checking that it is a whole number of records.
    public init(frame: [UInt8]) throws(WorkerProtocolError) {
        let records = frame.withUnsafeBytes { buffer -> Int? in
            var reader = PlainWireReader(bytes: buffer, range: 0..<buffer.count)
            var records = 0
            while !reader.isAtEnd {
                guard reader.delimited() != nil else { return nil }
                records += 1
            }
            return records
        }
        guard let records else { throw .malformedEvents }
        bytes = frame
        count = records
    }

    public var isEmpty: Bool { count == 0 }

    /// Appends a record after the others.
    public mutating func append(_ record: [UInt8]) {
        append(record[...])
    }

    /// Appends a record after the others.
    public mutating func append(_ record: ArraySlice<UInt8>) {
        WireFormatWriter.appendVarint(UInt64(record.count), to: &bytes)
        bytes.append(contentsOf: record)
        count += 1
    }

    /// Calls `body` with each record's bytes in order, without copying them. The buffer is
    /// valid only during the call.
    public func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { buffer in
            var reader = PlainWireReader(bytes: buffer, range: 0..<buffer.count)
            while !reader.isAtEnd {
                // Frames are checked when read (`init(frame:)`) and built whole by `append`.
                guard let range = reader.delimited() else { preconditionFailure("a record pack's framing is broken") }
                try body(UnsafeRawBufferPointer(rebasing: buffer[range]))
            }
        }
    }

    /// The records, each copied out.
    public var records: [[UInt8]] {
        var result: [[UInt8]] = []
        result.reserveCapacity(count)
        forEach { result.append(Array($0)) }
        return result
    }
}
