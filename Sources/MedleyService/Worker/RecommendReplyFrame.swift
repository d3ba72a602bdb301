import MedleyModel
import MedleyProtocol

/// A recommend reply's frame written straight from the model's lists: the bytes
/// `Medley_V1_Reply.serializedFrame()` makes for the reply message that holds them, without
/// building that message first (some fifty ranked items of two strings each, copied into
/// messages and then out of them, were a tenth of a worker's time per request at 3 × 5k).
struct RecommendReplyFrame {
    let requestID: UInt64
    let modelVersion: UInt64
    /// The domain lists asked for, as indexes into the result's domains, in the request's order.
    let domains: [Int]
    /// Items per list (the lists may hold more).
    let length: Int
    let includeScores: Bool
    let sessionID: String
    let requestTimeMs: Int64

    func bytes(for result: Recommendations) -> [UInt8] {
        let entries = Self.probabilityEntries(result)
        let body = bodySize(result, entries: entries)
        var size = 2 + WireFormatWriter.varintSize(UInt64(body)) + body  // field 17: a two-byte tag
        if ProtocolVersion.current != 0 { size += 1 + WireFormatWriter.varintSize(UInt64(ProtocolVersion.current)) }
        if requestID != 0 { size += 1 + WireFormatWriter.varintSize(requestID) }
        if modelVersion != 0 { size += 1 + WireFormatWriter.varintSize(modelVersion) }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var out = ByteCursor(buffer.baseAddress!)
            if ProtocolVersion.current != 0 { out.varintField(0x08, UInt64(ProtocolVersion.current)) }  // field 1
            if requestID != 0 { out.varintField(0x10, requestID) }  // field 2
            if modelVersion != 0 { out.varintField(0x18, modelVersion) }  // field 3
            out.byte(0x8A)  // field 17, length-delimited
            out.byte(0x01)
            out.varint(UInt64(body))
            writeBody(result, entries: entries, to: &out)
            count = out.written(since: buffer.baseAddress!)
            precondition(count == size, "a recommend reply of \(count) bytes where \(size) were counted")
        }
    }

    // MARK: The reply body (Medley_V1_RecommendReply)

    private func bodySize(_ result: Recommendations, entries: [(name: String, probability: Float)]) -> Int {
        var size = 0
        for t in domains { size += WireFormatWriter.lengthDelimitedSize(rankingSize(result, domain: t)) }
        size += listSize(result.session)
        for entry in entries { size += WireFormatWriter.lengthDelimitedSize(Self.entrySize(entry.name)) }
        size += listSize(result.blended)
        if modelVersion != 0 { size += 1 + WireFormatWriter.varintSize(modelVersion) }
        if !sessionID.isEmpty { size += WireFormatWriter.stringFieldSize(sessionID) }
        if requestTimeMs != 0 { size += 1 + WireFormatWriter.varintSize(UInt64(bitPattern: requestTimeMs)) }
        return size
    }

    private func writeBody(_ result: Recommendations, entries: [(name: String, probability: Float)], to out: inout ByteCursor) {
        for t in domains {  // field 1: DomainRanking
            out.byte(0x0A)
            out.varint(UInt64(rankingSize(result, domain: t)))
            let name = result.domains[t]
            out.string(0x0A, name)
            writeList(result.perDomain[t], tag: 0x12, to: &out)
        }
        writeList(result.session, tag: 0x12, to: &out)  // field 2
        for entry in entries {  // field 3, a map entry: its key and value even when empty or zero
            out.byte(0x1A)
            out.varint(UInt64(Self.entrySize(entry.name)))
            out.string(0x0A, entry.name, evenIfEmpty: true)
            out.float(0x15, entry.probability)
        }
        writeList(result.blended, tag: 0x22, to: &out)  // field 4
        if modelVersion != 0 { out.varintField(0x28, modelVersion) }  // field 5
        out.string(0x32, sessionID)  // field 6
        if requestTimeMs != 0 { out.varintField(0x38, UInt64(bitPattern: requestTimeMs)) }  // field 7
    }

    /// The next-domain probabilities as the message's map holds them (a domain named twice
    /// keeps its last probability), in the byte order of their keys, which its encoder writes.
    private static func probabilityEntries(_ result: Recommendations) -> [(name: String, probability: Float)] {
        var entries: [(name: String, probability: Float)] = []
        for (name, probability) in zip(result.domains, result.nextDomainProbabilities) {
            if let i = entries.firstIndex(where: { $0.name == name }) {
                entries[i].probability = probability
            } else {
                entries.append((name, probability))
            }
        }
        return entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    private func rankingSize(_ result: Recommendations, domain t: Int) -> Int {
        let name = result.domains[t]
        return (name.isEmpty ? 0 : WireFormatWriter.stringFieldSize(name)) + listSize(result.perDomain[t])
    }

    private static func entrySize(_ domain: String) -> Int {
        WireFormatWriter.stringFieldSize(domain) + 5
    }

    // MARK: Ranked items (Medley_V1_RankedItem)

    // The lists are read in place: a copy of each item would retain and release its strings.

    private func listSize(_ list: [Recommendation]) -> Int {
        list.withUnsafeBufferPointer { items in
            var size = 0
            for i in 0..<min(length, items.count) { size += WireFormatWriter.lengthDelimitedSize(itemSize(items, i)) }
            return size
        }
    }

    private func itemSize(_ items: UnsafeBufferPointer<Recommendation>, _ i: Int) -> Int {
        let (id, domain) = (items[i].item.id.utf8.count, items[i].item.domain.utf8.count)
        return (id == 0 ? 0 : WireFormatWriter.lengthDelimitedSize(id)) + (domain == 0 ? 0 : WireFormatWriter.lengthDelimitedSize(domain))
            + (includeScores ? 5 : 0)
    }

    private func writeList(_ list: [Recommendation], tag: UInt8, to out: inout ByteCursor) {
        list.withUnsafeBufferPointer { items in
            for i in 0..<min(length, items.count) {
                out.byte(tag)
                out.varint(UInt64(itemSize(items, i)))
                out.string(0x0A, items[i].item.id)  // field 1
                out.string(0x12, items[i].item.domain)  // field 2
                if includeScores { out.float(0x1D, items[i].score) }  // field 3
            }
        }
    }
}

/// Writes protobuf's wire format into memory sized beforehand: no growth checks per byte.
private struct ByteCursor {
    private var next: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { next = start }

    func written(since start: UnsafeMutablePointer<UInt8>) -> Int { next - start }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        next.initialize(to: value)
        next += 1
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    @inline(__always)
    mutating func varintField(_ tag: UInt8, _ value: UInt64) {
        byte(tag)
        varint(value)
    }

    /// A string field: the tag, the UTF-8 length, the bytes; nothing for an empty string (a
    /// proto3 field at its default) unless `evenIfEmpty` (a map entry's key).
    mutating func string(_ tag: UInt8, _ value: String, evenIfEmpty: Bool = false) {
        guard evenIfEmpty || !value.isEmpty else { return }
        byte(tag)
        let written: Void? = value.utf8.withContiguousStorageIfAvailable { append($0) }
        if written == nil {
            var text = value
            text.withUTF8 { append($0) }
        }
    }

    /// A length and the bytes.
    @inline(__always)
    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        varint(UInt64(bytes.count))
        guard let base = bytes.baseAddress else { return }
        next.initialize(from: base, count: bytes.count)
        next += bytes.count
    }

    /// A float field: the tag, then the bits, little-endian.
    @inline(__always)
    mutating func float(_ tag: UInt8, _ value: Float) {
        byte(tag)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { byte(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }
}
