import Testing
import ZeroMQ

@Suite("REQ/REP")
struct RequestReplyTests {
    @Test(arguments: Transport.allCases)
    func echoRoundTrips(transport: Transport) throws {
        let context = try Context()
        let server = try context.socket(.reply)
        let endpoint = try transport.bind(server)
        let peer = PeerThread {
            let client = try context.socket(.request)
            try client.connect(endpoint)
            for index in 0..<20 {
                try client.send("ping \(index)".bytes)
                let reply = try client.receive()
                #expect(reply.text == "pong \(index)")
            }
        }
        for _ in 0..<20 {
            let request = try server.receive().text
            #expect(request.hasPrefix("ping "))
            try server.send(("pong " + request.dropFirst(5)).bytes)
        }
        peer.join()
    }

    @Test func requestSocketEnforcesAlternation() throws {
        let context = try Context()
        let server = try context.socket(.reply)
        let endpoint = try Transport.inproc.bind(server)
        let client = try context.socket(.request)
        try client.connect(endpoint)
        try client.send("first".bytes)
        expectZMQError(.invalidState) { () throws(ZMQError) in try client.send("second".bytes) }
    }

    @Test func receiveTimeoutIsWouldBlock() throws {
        let context = try Context()
        let server = try context.socket(.reply)
        _ = try Transport.inproc.bind(server)
        try server.set(.receiveTimeoutMilliseconds, 20)
        expectZMQError(.wouldBlock) { () throws(ZMQError) in try server.receive() }
        #expect(try server.tryReceiveMultipart() == nil)
    }
}
