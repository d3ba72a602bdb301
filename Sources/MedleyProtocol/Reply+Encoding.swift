extension Medley_V1_Reply {
    /// The reply written by hand when its body is the service's busiest: a recommend reply, or
    /// an ingest acknowledgement without rejections. The bytes `serializedBytes()` makes (the
    /// next-domain probabilities in the byte order of their domains' names, where SwiftProtobuf
    /// follows its dictionary's order); nil for other bodies. A recommend reply is some fifty
    /// ranked items, and SwiftProtobuf's encoder sized each once per level of nesting: a seventh
    /// of a worker's time per request at 3 × 5k items; acknowledgements were a sixteenth of the
    /// broker's under ingest.
    func handWrittenFrame() -> [UInt8]? {
        let bodyTag: [UInt8]
        let bodySize: Int
        let appendBody: (inout [UInt8]) -> Void
        switch body {
        case .recommend(let recommend)?:
            bodyTag = [0x8A, 0x01]  // field 17, length-delimited
            bodySize = recommend.encodedSize
            appendBody = recommend.appendEncoding
        case .ingest(let ack)? where ack.rejections.isEmpty:
            bodyTag = [0x82, 0x01]  // field 16, length-delimited
            bodySize = ack.encodedSize
            appendBody = ack.appendEncoding
        default:
            return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(bodySize + 32)
        if protocolVersion != 0 {
            out.append(0x08)  // field 1, varint
            WireFormatWriter.appendVarint(UInt64(protocolVersion), to: &out)
        }
        if requestID != 0 {
            out.append(0x10)  // field 2
            WireFormatWriter.appendVarint(requestID, to: &out)
        }
        if modelVersion != 0 {
            out.append(0x18)  // field 3
            WireFormatWriter.appendVarint(modelVersion, to: &out)
        }
        out += bodyTag
        WireFormatWriter.appendVarint(UInt64(bodySize), to: &out)
        appendBody(&out)
        WireFormatWriter.appendUnknownFields(unknownFields.data, to: &out)
        return out
    }
}

/// A message written by hand: its size, counted without writing it, and its bytes.
protocol HandWrittenMessage {
    var encodedSize: Int { get }
    func appendEncoding(to out: inout [UInt8])
}

extension HandWrittenMessage {
    /// Appends the message as a length-delimited field with a one-byte tag.
    func appendField(tag: UInt8, to out: inout [UInt8]) {
        out.append(tag)
        WireFormatWriter.appendVarint(UInt64(encodedSize), to: &out)
        appendEncoding(to: &out)
    }
}

extension Medley_V1_IngestAck: HandWrittenMessage {
    /// Without rejections, which ``Medley_V1_Reply/handWrittenFrame()`` leaves to SwiftProtobuf.
    var encodedSize: Int {
        var size = accepted == 0 ? 0 : 1 + WireFormatWriter.varintSize(UInt64(accepted))
        if hasDurablePosition { size += WireFormatWriter.lengthDelimitedSize(durablePosition.encodedSize) }
        return size + unknownFields.data.count
    }

    func appendEncoding(to out: inout [UInt8]) {
        if accepted != 0 {
            out.append(0x08)  // field 1
            WireFormatWriter.appendVarint(UInt64(accepted), to: &out)
        }
        if hasDurablePosition { durablePosition.appendField(tag: 0x1A, to: &out) }  // field 3, written when set
        WireFormatWriter.appendUnknownFields(unknownFields.data, to: &out)
    }
}

extension Medley_V1_LogPosition: HandWrittenMessage {
    var encodedSize: Int {
        (sequence == 0 ? 0 : 1 + WireFormatWriter.varintSize(sequence))
            + (segment == 0 ? 0 : 1 + WireFormatWriter.varintSize(segment))
            + (offset == 0 ? 0 : 1 + WireFormatWriter.varintSize(offset)) + unknownFields.data.count
    }

    func appendEncoding(to out: inout [UInt8]) {
        for (tag, value) in [(UInt8(0x08), sequence), (0x10, segment), (0x18, offset)] where value != 0 {  // fields 1-3
            out.append(tag)
            WireFormatWriter.appendVarint(value, to: &out)
        }
        WireFormatWriter.appendUnknownFields(unknownFields.data, to: &out)
    }
}

extension Medley_V1_RecommendReply: HandWrittenMessage {
    var encodedSize: Int {
        var size = 0
        for ranking in domains { size += WireFormatWriter.lengthDelimitedSize(ranking.encodedSize) }
        for item in sessionNext { size += WireFormatWriter.lengthDelimitedSize(item.encodedSize) }
        for (domain, probability) in nextDomainProbability {
            size += WireFormatWriter.lengthDelimitedSize(Self.entrySize(domain, probability))
        }
        for item in blended { size += WireFormatWriter.lengthDelimitedSize(item.encodedSize) }
        if modelVersion != 0 { size += 1 + WireFormatWriter.varintSize(modelVersion) }
        if !sessionID.isEmpty { size += WireFormatWriter.stringFieldSize(sessionID) }
        if requestTimeMs != 0 { size += 1 + WireFormatWriter.varintSize(UInt64(bitPattern: requestTimeMs)) }
        return size + unknownFields.data.count
    }

    func appendEncoding(to out: inout [UInt8]) {
        for ranking in domains { ranking.appendField(tag: 0x0A, to: &out) }  // field 1
        for item in sessionNext { item.appendField(tag: 0x12, to: &out) }  // field 2
        // A map entry holds its key and its value even when they are empty or zero.
        for domain in nextDomainProbability.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let probability = nextDomainProbability[domain]!
            out.append(0x1A)  // field 3
            WireFormatWriter.appendVarint(UInt64(Self.entrySize(domain, probability)), to: &out)
            WireFormatWriter.appendString(tag: 0x0A, domain, to: &out)
            WireFormatWriter.appendFloat(tag: 0x15, probability, to: &out)
        }
        for item in blended { item.appendField(tag: 0x22, to: &out) }  // field 4
        if modelVersion != 0 {
            out.append(0x28)  // field 5
            WireFormatWriter.appendVarint(modelVersion, to: &out)
        }
        if !sessionID.isEmpty { WireFormatWriter.appendString(tag: 0x32, sessionID, to: &out) }  // field 6
        if requestTimeMs != 0 {
            out.append(0x38)  // field 7
            WireFormatWriter.appendVarint(UInt64(bitPattern: requestTimeMs), to: &out)
        }
        WireFormatWriter.appendUnknownFields(unknownFields.data, to: &out)
    }

    private static func entrySize(_ domain: String, _ probability: Float) -> Int {
        WireFormatWriter.stringFieldSize(domain) + 5
    }
}

extension Medley_V1_DomainRanking: HandWrittenMessage {
    var encodedSize: Int {
        var size = domain.isEmpty ? 0 : WireFormatWriter.stringFieldSize(domain)
        for item in items { size += WireFormatWriter.lengthDelimitedSize(item.encodedSize) }
        return size + unknownFields.data.count
    }

    func appendEncoding(to out: inout [UInt8]) {
        if !domain.isEmpty { WireFormatWriter.appendString(tag: 0x0A, domain, to: &out) }  // field 1
        for item in items { item.appendField(tag: 0x12, to: &out) }  // field 2
        WireFormatWriter.appendUnknownFields(unknownFields.data, to: &out)
    }
}

extension Medley_V1_RankedItem: HandWrittenMessage {
    var encodedSize: Int {
        (itemID.isEmpty ? 0 : WireFormatWriter.stringFieldSize(itemID))
            + (domain.isEmpty ? 0 : WireFormatWriter.stringFieldSize(domain))
            + (hasScore ? 5 : 0) + unknownFields.data.count
    }

    func appendEncoding(to out: inout [UInt8]) {
        if !itemID.isEmpty { WireFormatWriter.appendString(tag: 0x0A, itemID, to: &out) }  // field 1
        if !domain.isEmpty { WireFormatWriter.appendString(tag: 0x12, domain, to: &out) }  // field 2
        if hasScore { WireFormatWriter.appendFloat(tag: 0x1D, score, to: &out) }  // field 3, written when set
        WireFormatWriter.appendUnknownFields(unknownFields.data, to: &out)
    }
}
