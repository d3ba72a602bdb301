import MedleyProtocol
import Testing

@Suite struct RoutedMessageTests {
    let routingID: [UInt8] = [0x00, 0x80, 0x00, 0x41, 0xA7]
    let body: [UInt8] = [0x08, 0x01, 0x10, 0x03]

    @Test func splitsRouterMessage() throws {
        let message = try RoutedMessage(splitting: [routingID, [], body], maxBodyBytes: 1024)
        #expect(message.envelope == [routingID, []])
        #expect(message.body == body)
    }

    @Test func keepsEveryRoutingIDOfAProxyChain() throws {
        let proxyID: [UInt8] = [0x00, 0x80, 0x00, 0x00, 0x01]
        let message = try RoutedMessage(splitting: [proxyID, routingID, [], body], maxBodyBytes: 1024)
        #expect(message.envelope == [proxyID, routingID, []])
        #expect(message.body == body)
    }

    @Test func splitsDealerSideMessage() throws {
        let message = try RoutedMessage(splitting: [[], body], maxBodyBytes: 1024)
        #expect(message.envelope == [[]])
        #expect(message.body == body)
    }

    @Test func replyReusesTheEnvelope() throws {
        let received = try RoutedMessage(splitting: [routingID, [], body], maxBodyBytes: 1024)
        let replyBody: [UInt8] = [0x08, 0x01]
        let reply = received.replying(with: replyBody)
        #expect(reply.frames == [routingID, [], replyBody])
    }

    @Test func joinThenSplitIsIdentity() throws {
        let message = RoutedMessage(envelope: [routingID, []], body: body)
        #expect(try RoutedMessage(splitting: message.frames, maxBodyBytes: 1024) == message)
    }

    @Test func bodyAtTheLimitIsAccepted() throws {
        let atLimit = [UInt8](repeating: 0x01, count: 64)
        #expect(try RoutedMessage(splitting: [routingID, [], atLimit], maxBodyBytes: 64).body == atLimit)
    }

    @Test(arguments: [
        ([[UInt8]](), FramingError.missingDelimiter),
        ([[0x01, 0x02], [0x08, 0x01]], .missingDelimiter),
        ([[0x01, 0x02], []], .missingBody),
        ([[0x01, 0x02], [], [0x08], [0x10]], .extraBodyFrames(bodyFrameCount: 2)),
        ([[0x01, 0x02], [], [0x08], []], .extraBodyFrames(bodyFrameCount: 2)),
        ([[0x01, 0x02], [], [UInt8](repeating: 0, count: 65)], .bodyTooLarge(size: 65, limit: 64)),
    ])
    func refusesBadShapes(frames: [[UInt8]], expected: FramingError) {
        #expect(throws: expected) {
            try RoutedMessage(splitting: frames, maxBodyBytes: 64)
        }
    }

    @Test func framingErrorsMapToErrorCodes() {
        #expect(FramingError.missingDelimiter.errorCode == .malformedFrame)
        #expect(FramingError.missingBody.errorCode == .malformedFrame)
        #expect(FramingError.extraBodyFrames(bodyFrameCount: 2).errorCode == .malformedFrame)
        #expect(FramingError.bodyTooLarge(size: 2, limit: 1).errorCode == .messageTooLarge)
    }

    @Test func unsplittableMessagesStillGetAnEnvelope() {
        // No delimiter: answer the ROUTER's routing id, with a delimiter added.
        #expect(RoutedMessage.replyEnvelope(forUnsplittable: [routingID, body]) == [routingID, []])
        // Delimiter but a bad body: answer the envelope as received.
        #expect(RoutedMessage.replyEnvelope(forUnsplittable: [routingID, [], body, body]) == [routingID, []])
        #expect(RoutedMessage.replyEnvelope(forUnsplittable: []) == nil)
    }

    @Test func framingErrorBecomesAnErrorReply() throws {
        let reply = Medley_V1_Reply(failure: FramingError.extraBodyFrames(bodyFrameCount: 3))
        #expect(reply.requestID == 0)
        #expect(reply.error.code == .malformedFrame)
        #expect(reply.error.message.contains("exactly one"))
    }
}
