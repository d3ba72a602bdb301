import Testing

@testable import MedleyService

/// The frames of the worker socket's messages (protocol/README.md, "Worker socket").
@Suite("worker messages")
struct WorkerMessageTests {
    @Test func requestsCarryTheTicketTheRequestIDAndTheRecommendBodyNotTheEnvelope() throws {
        let request = WorkerMessage.request(ticket: 7, requestID: 0x0102, recommendation: [1, 2, 3])
        #expect(request.frames == [Array("MDW4".utf8), [3], [7, 0, 0, 0, 0, 0, 0, 0], [2, 1, 0, 0, 0, 0, 0, 0], [1, 2, 3]])
        #expect(try WorkerMessage(frames: request.frames) == request)
        let reply = WorkerMessage.reply(ticket: 7, body: [9])
        #expect(reply.frames.count == 4)
        #expect(try WorkerMessage(frames: reply.frames) == reply)
    }

    @Test func framesOfTheFirstVersionAreToldApart() {
        // MDW1 sent the envelope (routing id, empty delimiter) between ticket and body.
        let first = [Array("MDW1".utf8), [4], [7, 0, 0, 0, 0, 0, 0, 0], Array("client".utf8), [], [9]]
        #expect(throws: WorkerProtocolError.notWorkerProtocol) { try WorkerMessage(frames: first) }
        var envelopeAfterTicket = first
        envelopeAfterTicket[0] = WorkerMessage.tag
        #expect(throws: WorkerProtocolError.wrongFrameCount(command: "REPLY", count: 4)) { try WorkerMessage(frames: envelopeAfterTicket) }
        #expect(throws: WorkerProtocolError.malformedTicket(command: "REQUEST")) {
            try WorkerMessage(frames: [WorkerMessage.tag, [3], [7], [1, 0, 0, 0, 0, 0, 0, 0], [1]])
        }
        #expect(throws: WorkerProtocolError.malformedRequestID) {
            try WorkerMessage(frames: [WorkerMessage.tag, [3], [7, 0, 0, 0, 0, 0, 0, 0], [1], [1]])
        }
    }

    @Test func aRequestOfTheSecondVersionIsToldApart() {
        // MDW2 sent the whole Request (envelope and body) after the ticket, and no request id.
        let second: [[UInt8]] = [Array("MDW2".utf8), [3], [7, 0, 0, 0, 0, 0, 0, 0], [0x08, 0x01]]
        #expect(throws: WorkerProtocolError.notWorkerProtocol) { try WorkerMessage(frames: second) }
        var retagged = second
        retagged[0] = WorkerMessage.tag
        #expect(throws: WorkerProtocolError.wrongFrameCount(command: "REQUEST", count: 2)) { try WorkerMessage(frames: retagged) }
    }

    @Test func eventsTravelAsOneFrameOfRecordsEachAfterItsLength() throws {
        // Lengths 0, 1, 127 and 128 (a one- and a two-byte varint) and a record of 300 bytes.
        let records: [[UInt8]] = [[], [7], Array(repeating: 1, count: 127), Array(repeating: 2, count: 128), (0..<300).map { UInt8($0 % 251) }]
        let message = WorkerMessage.events(EventRecordPack(records))
        let frames = message.frames
        #expect(frames.count == 3)
        #expect(Array(frames[2].prefix(4)) == [0, 1, 7, 127])
        #expect(frames[2].count == records.reduce(0) { $0 + $1.count } + 1 + 1 + 1 + 2 + 2)
        let read = try WorkerMessage(frames: frames)
        #expect(read == message)
        guard case .events(let pack) = read else { Issue.record("not EVENTS"); return }
        #expect(pack.count == 5)
        #expect(pack.records == records)
        var appended = EventRecordPack()
        for record in records { appended.append(record) }
        #expect(appended == pack)
        #expect(try WorkerMessage(frames: WorkerMessage.events(EventRecordPack()).frames) == .events(EventRecordPack()))
    }

    @Test func eventsWithATruncatedRecordOrOneFramePerRecordAreRefused() {
        // A length past the end of the frame, and a length whose varint is cut off.
        for frame: [UInt8] in [[5, 1, 2], [1, 9, 0x80]] {
            #expect(throws: WorkerProtocolError.malformedEvents) { try WorkerMessage(frames: [WorkerMessage.tag, [5], frame]) }
        }
        // MDW3 sent each record in a frame of its own.
        let third: [[UInt8]] = [Array("MDW3".utf8), [5], [0x08, 0x01], [0x08, 0x02]]
        #expect(throws: WorkerProtocolError.notWorkerProtocol) { try WorkerMessage(frames: third) }
        var retagged = third
        retagged[0] = WorkerMessage.tag
        #expect(throws: WorkerProtocolError.wrongFrameCount(command: "EVENTS", count: 2)) { try WorkerMessage(frames: retagged) }
    }
}
