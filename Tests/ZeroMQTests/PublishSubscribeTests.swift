import Testing
import ZeroMQ

@Suite("PUB/SUB")
struct PublishSubscribeTests {
    @Test(arguments: Transport.allCases)
    func subscribersReceiveOnlyTheirTopics(transport: Transport) throws {
        let context = try Context()
        let publisher = try context.socket(.publisher)
        let endpoint = try transport.bind(publisher)
        let subscriber = try context.socket(.subscriber)
        try subscriber.subscribe("model.")
        try subscriber.set(.receiveTimeoutMilliseconds, 10)
        try subscriber.connect(endpoint)

        // A subscription reaches the publisher asynchronously (the "slow joiner"): publish
        // until the subscriber has heard three matching messages, within a bounded count.
        var received: [[[UInt8]]] = []
        var sequence = 0
        while received.count < 3 && sequence < 2_000 {
            try publisher.send(multipart: ["music.skip".bytes, "\(sequence)".bytes])
            try publisher.send(multipart: ["model.announce".bytes, "\(sequence)".bytes])
            sequence += 1
            while let message = try subscriber.tryReceiveMultipart() {
                received.append(message)
            }
        }
        #expect(received.count >= 3)
        for message in received {
            #expect(message.count == 2)
            #expect(message[0].text == "model.announce")
        }
        let numbers = received.compactMap { Int($0[1].text) }
        #expect(numbers == numbers.sorted(), "a subscriber sees one publisher's messages in order")
    }

    @Test func unsubscribedTopicsStopArriving() throws {
        let context = try Context()
        let publisher = try context.socket(.publisher)
        let endpoint = try Transport.inproc.bind(publisher)
        let subscriber = try context.socket(.subscriber)
        try subscriber.connect(endpoint)
        try subscriber.subscribe("a")
        try subscriber.unsubscribe("a")
        try subscriber.subscribe("b")
        try subscriber.set(.receiveTimeoutMilliseconds, 10)
        var heard: [String] = []
        for _ in 0..<200 where !heard.contains("b") {
            try publisher.send("a".bytes)
            try publisher.send("b".bytes)
            while let message = try subscriber.tryReceiveMultipart() { heard.append(message[0].text) }
        }
        #expect(heard.contains("b"))
        #expect(!heard.contains("a"))
    }
}
