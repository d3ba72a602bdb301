#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A vocabulary's ids stored as one buffer of their UTF-8 bytes and n + 1 offsets: id `i` is
/// `utf8[offsets[i]..<offsets[i + 1]]`.
///
/// Millions of ids cost two allocations rather than one or two per id, and this is the layout a
/// model file stores them in (models/README.md, "Vocabularies"), so reading one is two copies.
/// Invariant: `offsets` starts at 0, never decreases and ends at `utf8.count`; every id is
/// well-formed UTF-8 (the initialisers guarantee it, ``ModelFile`` checks it for a file's).
/// Two values are equal when their bytes are, as ids are compared everywhere (``OpaqueID``).
public struct PackedIDs: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    /// The ids' bytes, concatenated in row order.
    public let utf8: [UInt8]
    /// Where each id starts in `utf8`, plus the end: `count + 1` values.
    public let offsets: [Int]

    public init(_ ids: some Sequence<String>) {
        var utf8: [UInt8] = []
        var offsets = [0]
        for id in ids {
            utf8.append(contentsOf: id.utf8)
            offsets.append(utf8.count)
        }
        self.utf8 = utf8
        self.offsets = offsets
    }

    public init(arrayLiteral ids: String...) {
        self.init(ids)
    }

    /// Bytes and offsets already checked against the invariant.
    init(checkedUTF8 utf8: [UInt8], offsets: [Int]) {
        assert(offsets.first == 0 && offsets.last == utf8.count, "offsets do not span the bytes")
        self.utf8 = utf8
        self.offsets = offsets
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { offsets.count - 1 }

    /// The id of a row, made on demand (ids of up to 15 bytes need no allocation).
    public subscript(row: Int) -> String {
        String(decoding: utf8[offsets[row]..<offsets[row + 1]], as: UTF8.self)
    }

    /// The number of bytes of a row's id.
    public func byteCount(of row: Int) -> Int {
        offsets[row + 1] - offsets[row]
    }

    /// Whether a row's id is exactly `bytes`.
    func hasBytes(_ row: Int, equalTo bytes: UnsafeRawBufferPointer) -> Bool {
        let start = offsets[row], end = offsets[row + 1]
        guard end - start == bytes.count else { return false }
        guard let other = bytes.baseAddress, bytes.count > 0 else { return true }
        // memcmp: a generic elementsEqual walked the bytes through iterators, half of a
        // lookup's time.
        return utf8.withUnsafeBytes { all in memcmp(all.baseAddress! + start, other, bytes.count) == 0 }
    }

    /// Calls `body` with a row's id bytes.
    func withBytes<R>(of row: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let start = offsets[row], end = offsets[row + 1]
        return utf8.withUnsafeBytes { all in body(UnsafeRawBufferPointer(rebasing: all[start..<end])) }
    }
}
