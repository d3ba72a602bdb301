import MedleySystem

/// Why a model file was refused. Every case names what is wrong, so that an operator can
/// tell a truncated download from a trainer bug.
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
    /// Fewer than the 8 bytes of the header length.
    case truncatedHeaderLength(fileSize: Int)
    /// The header length points past the end of the file.
    case headerLengthPastEnd(headerLength: UInt64, available: Int)
    /// The header is longer than Medley accepts.
    case headerTooLarge(headerLength: UInt64, limit: Int)
    /// The header is not a JSON object.
    case headerNotJSON(reason: String)
    /// A tensor's header entry lacks a field or has one of the wrong type.
    case invalidEntry(tensor: String, reason: String)
    /// A dtype that safetensors does not define.
    case unknownDType(tensor: String, dtype: String)
    /// A defined dtype that Medley does not use for this tensor (`expected` is the one it uses).
    case unsupportedDType(tensor: String, dtype: String, expected: String)
    /// `data_offsets` outside the data buffer or reversed.
    case offsetsOutOfRange(tensor: String, begin: UInt64, end: UInt64, bufferLength: Int)
    /// The byte range does not hold shape × dtype size bytes.
    case byteLengthMismatch(tensor: String, shape: [Int], expectedBytes: UInt64, actualBytes: UInt64)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(String, String)
    /// Bytes of the data buffer that no tensor covers, before `tensor` (or at the end when nil).
    case uncoveredBytes(beforeTensor: String?, offset: UInt64)
    /// A tensor Medley needs is absent.
    case missingTensor(String)
    /// A tensor the layout does not have.
    case unexpectedTensor(String)
    /// A tensor with the wrong shape.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// A NaN or infinite value.
    case nonFiniteValue(tensor: String, index: Int)
    /// A metadata key Medley needs is absent.
    case missingMetadata(key: String)
    /// A metadata value that cannot be read.
    case invalidMetadata(key: String, reason: String)
    /// A format version this code does not read.
    case unsupportedFormatVersion(String)
    /// Vocabularies that disagree with each other or with the tensors.
    case inconsistentVocabulary(String)
    /// A vocabulary tensor whose values break its rules (offsets out of order or past the end,
    /// ids that are not UTF-8).
    case invalidVocabularyTensor(tensor: String, reason: String)
    /// Reading or writing the file failed.
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .truncatedHeaderLength(let size):
            return "file is \(size) bytes, too short for the 8-byte header length"
        case .headerLengthPastEnd(let length, let available):
            return "header length \(length) exceeds the \(available) bytes after it (truncated file?)"
        case .headerTooLarge(let length, let limit):
            return "header length \(length) exceeds the limit of \(limit) bytes"
        case .headerNotJSON(let reason):
            return "header is not a JSON object: \(reason)"
        case .invalidEntry(let tensor, let reason):
            return "tensor \"\(tensor)\": \(reason)"
        case .unknownDType(let tensor, let dtype):
            return "tensor \"\(tensor)\": unknown dtype \"\(dtype)\""
        case .unsupportedDType(let tensor, let dtype, let expected):
            return "tensor \"\(tensor)\": dtype \(dtype) not supported (expected \(expected))"
        case .offsetsOutOfRange(let tensor, let begin, let end, let length):
            return "tensor \"\(tensor)\": data_offsets [\(begin), \(end)] outside the \(length)-byte data buffer"
        case .byteLengthMismatch(let tensor, let shape, let expected, let actual):
            return "tensor \"\(tensor)\": shape \(shape) needs \(expected) bytes but data_offsets span \(actual)"
        case .overlappingTensors(let a, let b):
            return "tensors \"\(a)\" and \"\(b)\" overlap in the data buffer"
        case .uncoveredBytes(let tensor, let offset):
            return tensor.map { "data buffer has bytes before tensor \"\($0)\" (from offset \(offset)) that no tensor covers" }
                ?? "data buffer has \(offset > 0 ? "trailing " : "")bytes from offset \(offset) that no tensor covers (oversized file?)"
        case .missingTensor(let name):
            return "tensor \"\(name)\" is missing"
        case .unexpectedTensor(let name):
            return "tensor \"\(name)\" is not part of this model's layout"
        case .shapeMismatch(let tensor, let expected, let actual):
            return "tensor \"\(tensor)\": shape \(actual), expected \(expected)"
        case .nonFiniteValue(let tensor, let index):
            return "tensor \"\(tensor)\": non-finite value at element \(index)"
        case .missingMetadata(let key):
            return "metadata \"\(key)\" is missing"
        case .invalidMetadata(let key, let reason):
            return "metadata \"\(key)\": \(reason)"
        case .unsupportedFormatVersion(let version):
            return "format_version \"\(version)\" is not supported (this build reads \(ModelFile.VocabularyLayout.allCases.map { String($0.formatVersion) }.joined(separator: " and ")))"
        case .inconsistentVocabulary(let reason):
            return "inconsistent vocabulary: \(reason)"
        case .invalidVocabularyTensor(let tensor, let reason):
            return "tensor \"\(tensor)\": \(reason)"
        case .io(let path, let operation, let errno):
            return "\(operation) \(path) failed: errno \(errno)"
        }
    }
}

extension ModelFileError {
    /// A failed read or write of the file.
    public init(_ error: SystemCallError) {
        self = .io(path: error.path, operation: error.operation, errno: error.errno.rawValue)
    }
}
