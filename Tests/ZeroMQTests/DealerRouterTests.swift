import Testing
import ZeroMQ

@Suite("DEALER/ROUTER")
struct DealerRouterTests {
    @Test(arguments: Transport.allCases)
    func envelopesRouteRepliesToTheirSender(transport: Transport) throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.set(.routerMandatory, true)
        let endpoint = try transport.bind(router)

        let names = ["alice", "bob", "carol"]
        let peers = names.map { name in
            PeerThread {
                let dealer = try context.socket(.dealer)
                try dealer.set(.routingId, name.bytes)
                try dealer.connect(endpoint)
                for index in 0..<5 {
                    // DEALER adds no delimiter itself: send it, as a REQ would.
                    try dealer.send(multipart: [[], "\(name) \(index)".bytes])
                    let reply = try dealer.receiveMultipart()
                    #expect(reply == [[], "to \(name) \(index)".bytes])
                }
            }
        }
        for _ in 0..<(names.count * 5) {
            let frames = try router.receiveMultipart()
            #expect(frames.count == 3)
            let identity = frames[0]
            #expect(frames[1].isEmpty)
            let body = frames[2].text
            #expect(body.hasPrefix(identity.text + " "))
            try router.send(multipart: [identity, [], ("to " + body).bytes])
        }
        peers.forEach { $0.join() }
    }

    @Test func routerMandatoryRefusesUnknownPeers() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.set(.routerMandatory, true)
        _ = try Transport.inproc.bind(router)
        expectZMQError(.hostUnreachable) { () throws(ZMQError) in
            try router.send(multipart: ["nobody".bytes, [], "hello".bytes])
        }
    }

    @Test func identitiesAreReadBack() throws {
        let context = try Context()
        let dealer = try context.socket(.dealer)
        try dealer.set(.routingId, [1, 2, 3, 255])
        #expect(try dealer.get(.routingId) == [1, 2, 3, 255])
    }
}
