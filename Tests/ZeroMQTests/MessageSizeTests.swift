import Testing
import ZeroMQ

@Suite("Message size limits")
struct MessageSizeTests {
    @Test func frameOverTheMaximumSizeIsRefused() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.set(.maxMessageSize, 1024)
        #expect(try pull.get(.maxMessageSize) == 1024)
        try pull.set(.receiveTimeoutMilliseconds, 300)
        let endpoint = try Transport.tcp.bind(pull)

        let oversized = try context.socket(.push)
        try oversized.connect(endpoint)
        try oversized.send([UInt8](repeating: 7, count: 4096))
        // libzmq drops the connection of a peer that sends a frame over the limit.
        expectZMQError(.wouldBlock) { () throws(ZMQError) in try pull.receive() }

        // The receiver keeps serving other peers.
        let wellBehaved = try context.socket(.push)
        try wellBehaved.connect(endpoint)
        try wellBehaved.send([UInt8](repeating: 1, count: 1000))
        try pull.set(.receiveTimeoutMilliseconds, 5_000)
        #expect(try pull.receive().count == 1000)
    }

    @Test func multipartLimitsDropExcessFramesAndKeepInStep() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        let endpoint = try Transport.inproc.bind(pull)
        let push = try context.socket(.push)
        try push.connect(endpoint)

        let many = (0..<10).map { [UInt8](repeating: UInt8($0), count: 100) }
        try push.send(multipart: many)
        try push.send(multipart: ["next".bytes])

        let limits = MultipartLimits(maxFrames: 3, maxTotalBytes: 10_000)
        let first = try pull.receiveMultipart(within: limits)
        #expect(first.isTruncated)
        #expect(first.frames == Array(many.prefix(3)))
        #expect(first.totalFrames == 10)
        #expect(first.totalBytes == 1000)
        let second = try pull.receiveMultipart(within: limits)
        #expect(!second.isTruncated)
        #expect(second.frames == ["next".bytes])
    }

    @Test func multipartByteLimitKeepsTheLeadingFrames() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        let endpoint = try Transport.inproc.bind(pull)
        let push = try context.socket(.push)
        try push.connect(endpoint)
        try push.send(multipart: ["envelope".bytes, [], [UInt8](repeating: 0, count: 5000)])
        let received = try pull.receiveMultipart(within: MultipartLimits(maxFrames: 10, maxTotalBytes: 1000))
        #expect(received.isTruncated)
        #expect(received.frames == ["envelope".bytes, []])
    }
}
