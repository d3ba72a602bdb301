import Testing

@testable import MedleyService

/// The frames of REQUEST and REPLY on the worker socket (protocol/README.md, "Worker socket").
@Suite("worker messages")
struct WorkerMessageTests {
    @Test func requestsAndRepliesCarryTheTicketAndTheBodyNotTheClientsEnvelope() throws {
        let request = WorkerMessage.request(ticket: 7, body: [1, 2, 3])
        #expect(request.frames == [Array("MDW2".utf8), [3], [7, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3]])
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
            try WorkerMessage(frames: [WorkerMessage.tag, [3], [7], [1]])
        }
    }
}
