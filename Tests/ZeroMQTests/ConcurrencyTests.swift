import Synchronization
import Testing
import ZeroMQ

@Suite("Many threads")
struct ConcurrencyTests {
    @Test(arguments: Transport.allCases)
    func eachThreadOwnsItsSockets(transport: Transport) throws {
        let context = try Context()
        let router = try context.socket(.router)
        let endpoint = try transport.bind(router)
        let clients = 8
        let roundTrips = 100
        let completed = Mutex(0)

        let threads = (0..<clients).map { client in
            PeerThread {
                let dealer = try context.socket(.dealer)
                try dealer.connect(endpoint)
                for trip in 0..<roundTrips {
                    let body = "\(client):\(trip)".bytes
                    try dealer.send(multipart: [[], body])
                    let reply = try dealer.receiveMultipart()
                    #expect(reply == [[], body.reversed()])
                }
                completed.withLock { $0 += 1 }
            }
        }
        // The router echoes on this thread: one socket, one owner.
        for _ in 0..<(clients * roundTrips) {
            let frames = try router.receiveMultipart()
            try router.send(multipart: [frames[0], [], frames[2].reversed()])
        }
        threads.forEach { $0.join() }
        #expect(completed.withLock { $0 } == clients)
    }

    @Test func contextIsSharedAcrossThreads() throws {
        let context = try Context(.init(ioThreads: 2))
        let sockets = Mutex(0)
        let threads = (0..<16).map { _ in
            PeerThread {
                let socket = try context.socket(.pair)
                try socket.bind(inprocEndpoint("shared"))
                sockets.withLock { $0 += 1 }
            }
        }
        threads.forEach { $0.join() }
        #expect(sockets.withLock { $0 } == 16)
    }
}
