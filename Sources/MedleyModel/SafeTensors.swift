import Foundation

/// One tensor's entry in a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    /// Byte range relative to the start of the data buffer.
    public var dataOffsets: Range<Int>
}

/// A parsed, validated safetensors header.
public struct SafeTensorsHeader: Sendable, Equatable {
    /// Entries in data-buffer order.
    public var entries: [SafeTensorsEntry]
    /// `__metadata__`: strings only.
    public var metadata: [String: String]
    /// The header's length in bytes (N), as stored.
    public var headerLength: Int
    /// Where the data buffer starts in the file (8 + N).
    public var dataStart: Int
}

/// Reads and writes the safetensors container: 8-byte little-endian header length N, N bytes of
/// JSON header, then the data buffer. Untrusted input is checked the way swift-protobuf's
/// BinaryDecoder checks it: every length against what remains before anything is allocated,
/// every offset in bounds, the buffer covered exactly once.
public enum SafeTensors {
    /// Headers longer than this are refused (the same limit as the reference implementation).
    public static let maximumHeaderLength = 100_000_000

    /// Bytes per element of each dtype safetensors defines.
    public static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
        "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]

    /// Parses and validates the header of a file's bytes.
    public static func readHeader(_ bytes: UnsafeRawBufferPointer) throws(ModelFileError) -> SafeTensorsHeader {
        guard bytes.count >= 8 else { throw .truncatedHeaderLength(fileSize: bytes.count) }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let available = bytes.count - 8
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw .headerTooLarge(headerLength: headerLength, limit: maximumHeaderLength)
        }
        guard headerLength <= UInt64(available) else {
            throw .headerLengthPastEnd(headerLength: headerLength, available: available)
        }
        let n = Int(headerLength)
        let json = Data(bytes[8..<(8 + n)])
        guard json.first == UInt8(ascii: "{") else { throw .headerNotJSON(reason: "does not start with '{'") }
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch {
            throw .headerNotJSON(reason: "\(error)")
        }
        var metadata: [String: String] = [:]
        switch raw.metadata {
        case .success(let m): metadata = m
        case .failure(let reason): throw .invalidMetadata(key: "__metadata__", reason: reason.message)
        case nil: break
        }
        let bufferLength = bytes.count - 8 - n
        var entries: [SafeTensorsEntry] = []
        for (name, result) in raw.entries {
            switch result {
            case .failure(let reason): throw .invalidEntry(tensor: name, reason: reason.message)
            case .success(let entry): entries.append(try validate(name: name, entry, bufferLength: bufferLength))
            }
        }
        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }
        // The buffer must be covered exactly: no overlaps, no holes, nothing after the last tensor.
        var cursor = 0
        var previous: String?
        for entry in entries {
            if entry.dataOffsets.lowerBound < cursor, let previous {
                throw .overlappingTensors(previous, entry.name)
            }
            if entry.dataOffsets.lowerBound > cursor {
                throw .uncoveredBytes(beforeTensor: entry.name, offset: UInt64(cursor))
            }
            cursor = entry.dataOffsets.upperBound
            previous = entry.name
        }
        if cursor != bufferLength { throw .uncoveredBytes(beforeTensor: nil, offset: UInt64(cursor)) }
        return SafeTensorsHeader(entries: entries, metadata: metadata, headerLength: n, dataStart: 8 + n)
    }

    private static func validate(name: String, _ raw: RawEntry, bufferLength: Int) throws(ModelFileError) -> SafeTensorsEntry {
        guard let size = dtypeSizes[raw.dtype] else { throw .unknownDType(tensor: name, dtype: raw.dtype) }
        guard raw.dataOffsets.count == 2 else { throw .invalidEntry(tensor: name, reason: "data_offsets is not two integers") }
        let begin = raw.dataOffsets[0], end = raw.dataOffsets[1]
        guard begin <= end, end <= UInt64(bufferLength) else {
            throw .offsetsOutOfRange(tensor: name, begin: begin, end: end, bufferLength: bufferLength)
        }
        var elements: UInt64 = 1
        var overflow = false
        for dim in raw.shape {
            let (product, o) = elements.multipliedReportingOverflow(by: dim)
            overflow = overflow || o
            elements = product
        }
        let (expected, o) = elements.multipliedReportingOverflow(by: UInt64(size))
        let shape = raw.shape.map { Int(clamping: $0) }
        guard !overflow, !o, expected == end - begin else {
            throw .byteLengthMismatch(tensor: name, shape: shape, expectedBytes: overflow || o ? .max : expected, actualBytes: end - begin)
        }
        return SafeTensorsEntry(name: name, dtype: raw.dtype, shape: shape, dataOffsets: Int(begin)..<Int(end))
    }

    /// A header entry as written; integers that are negative, fractional or too large fail to decode.
    private struct RawEntry: Decodable {
        var dtype: String
        var shape: [UInt64]
        var dataOffsets: [UInt64]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private struct Reason: Error {
        var message: String
    }

    /// The header object, with each entry's decoding failure kept so that it can be reported
    /// against the tensor's name.
    private struct RawHeader: Decodable {
        var entries: [String: Result<RawEntry, Reason>] = [:]
        var metadata: Result<[String: String], Reason>?

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    do {
                        metadata = .success(try container.decode([String: String].self, forKey: key))
                    } catch {
                        metadata = .failure(Reason(message: "not an object of string values"))
                    }
                } else {
                    do {
                        entries[key.stringValue] = .success(try container.decode(RawEntry.self, forKey: key))
                    } catch {
                        entries[key.stringValue] = .failure(Reason(message: Self.describe(error)))
                    }
                }
            }
        }

        private static func describe(_ error: any Error) -> String {
            switch error as? DecodingError {
            case .keyNotFound(let key, _): return "\(key.stringValue) is missing"
            case .typeMismatch(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.dropFirst().map(\.stringValue).first ?? "entry"
                return "\(path) has the wrong type or a value out of range"
            default: return "entry is not an object with dtype, shape and data_offsets"
            }
        }
    }

    /// Decodes an F32 tensor's elements (little-endian) and checks that every value is finite.
    public static func floats(_ entry: SafeTensorsEntry, in bytes: UnsafeRawBufferPointer, dataStart: Int) throws(ModelFileError) -> [Float] {
        guard entry.dtype == "F32" else { throw .unsupportedDType(tensor: entry.name, dtype: entry.dtype, expected: "F32") }
        let count = entry.dataOffsets.count / 4
        let base = dataStart + entry.dataOffsets.lowerBound
        precondition(base >= 0 && base + 4 * count <= bytes.count, "entry was not validated against this buffer")
        var values = [Float](repeating: 0, count: count)
        var bad: Int?
        values.withUnsafeMutableBufferPointer { out in
            for i in 0..<count {
                let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self))
                let v = Float(bitPattern: bits)
                if !v.isFinite && bad == nil { bad = i }
                out[i] = v
            }
        }
        if let bad { throw .nonFiniteValue(tensor: entry.name, index: bad) }
        return values
    }

    /// Decodes an I32 tensor's elements (little-endian).
    public static func int32s(_ entry: SafeTensorsEntry, in bytes: UnsafeRawBufferPointer, dataStart: Int) throws(ModelFileError) -> [Int32] {
        try integers(entry, dtype: "I32", as: Int32.self, in: bytes, dataStart: dataStart)
    }

    /// Decodes an I64 tensor's elements (little-endian).
    public static func int64s(_ entry: SafeTensorsEntry, in bytes: UnsafeRawBufferPointer, dataStart: Int) throws(ModelFileError) -> [Int64] {
        try integers(entry, dtype: "I64", as: Int64.self, in: bytes, dataStart: dataStart)
    }

    /// A U8 tensor's bytes, copied in one piece.
    public static func uint8s(_ entry: SafeTensorsEntry, in bytes: UnsafeRawBufferPointer, dataStart: Int) throws(ModelFileError) -> [UInt8] {
        guard entry.dtype == "U8" else { throw .unsupportedDType(tensor: entry.name, dtype: entry.dtype, expected: "U8") }
        let base = dataStart + entry.dataOffsets.lowerBound
        precondition(base >= 0 && base + entry.dataOffsets.count <= bytes.count, "entry was not validated against this buffer")
        return Array(UnsafeRawBufferPointer(rebasing: bytes[base..<(base + entry.dataOffsets.count)]))
    }

    /// Decodes an integer tensor of `dtype` (little-endian `T`).
    private static func integers<T: FixedWidthInteger>(_ entry: SafeTensorsEntry, dtype: String, as type: T.Type,
                                                       in bytes: UnsafeRawBufferPointer, dataStart: Int) throws(ModelFileError) -> [T] {
        guard entry.dtype == dtype else { throw .unsupportedDType(tensor: entry.name, dtype: entry.dtype, expected: dtype) }
        let size = MemoryLayout<T>.size
        let count = entry.dataOffsets.count / size
        let base = dataStart + entry.dataOffsets.lowerBound
        precondition(base >= 0 && base + size * count <= bytes.count, "entry was not validated against this buffer")
        return (0..<count).map { i in T(littleEndian: bytes.loadUnaligned(fromByteOffset: base + size * i, as: T.self)) }
    }

    /// A tensor's elements as the writer holds them; every kind but `float32` is one-dimensional.
    public enum TensorData {
        case float32(Tensor)
        case int32([Int32])
        case int64([Int64])
        case uint8([UInt8])

        var dtype: String {
            switch self {
            case .float32: "F32"
            case .int32: "I32"
            case .int64: "I64"
            case .uint8: "U8"
            }
        }

        var shape: [Int] {
            switch self {
            case .float32(let tensor): tensor.shape
            case .int32(let values): [values.count]
            case .int64(let values): [values.count]
            case .uint8(let values): [values.count]
            }
        }

        var byteCount: Int {
            switch self {
            case .float32(let tensor): 4 * tensor.count
            case .int32(let values): 4 * values.count
            case .int64(let values): 8 * values.count
            case .uint8(let values): values.count
            }
        }

        /// Appends the elements, little-endian.
        func append(to out: inout [UInt8]) {
            switch self {
            case .float32(let tensor):
                for v in tensor.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            case .int32(let values):
                for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
            case .int64(let values):
                for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
            case .uint8(let values):
                out.append(contentsOf: values)
            }
        }
    }

    /// Encodes F32 tensors and then I32 tensors, each in the given order, with string metadata.
    public static func encode(tensors: [(name: String, tensor: Tensor)], integerTensors: [(name: String, values: [Int32])] = [],
                              metadata: [String: String]) -> [UInt8] {
        encode(tensors.map { ($0.name, TensorData.float32($0.tensor)) } + integerTensors.map { ($0.name, TensorData.int32($0.values)) },
               metadata: metadata)
    }

    /// Encodes tensors in the given order, with string metadata. The header is padded with
    /// spaces so that the data buffer starts 8-byte aligned.
    public static func encode(_ tensors: [(name: String, data: TensorData)], metadata: [String: String]) -> [UInt8] {
        var header = "{"
        var offset = 0
        var first = true
        func jsonString(_ s: String) -> String {
            let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
            let text = String(decoding: data, as: UTF8.self)
            return String(text.dropFirst().dropLast())
        }
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            header += "}"
            first = false
        }
        for (name, data) in tensors {
            let bytes = data.byteCount
            if !first { header += "," }
            first = false
            header += "\(jsonString(name)):{\"dtype\":\"\(data.dtype)\",\"shape\":[\(data.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for (_, data) in tensors { data.append(to: &out) }
        return out
    }
}
