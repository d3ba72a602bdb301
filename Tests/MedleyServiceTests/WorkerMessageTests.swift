import Testing

@testable import MedleyService

/// The frames of REQUEST and REPLY on the worker socket (protocol/README.md, "Worker socket").
@Suite("worker messages")
struct WorkerMessageTests {
    @Test func requestsCarryTheTicketTheRequestIDAndTheRecommendBodyNotTheEnvelope() throws {
        let request = WorkerMessage.request(ticket: 7, requestID: 0x0102, recommendation: [1, 2, 3])
        #expect(request.frames == [Array("MDW3".utf8), [3], [7, 0, 0, 0, 0, 0, 0, 0], [2, 1, 0, 0, 0, 0, 0, 0], [1, 2, 3]])
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
}
