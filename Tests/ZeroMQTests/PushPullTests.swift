import Foundation
import Synchronization
import Testing
import ZeroMQ

@Suite("PUSH/PULL")
struct PushPullTests {
    @Test(arguments: Transport.allCases)
    func pipelineKeepsOrder(transport: Transport) throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        let endpoint = try transport.bind(pull)
        let producer = PeerThread {
            let push = try context.socket(.push)
            try push.connect(endpoint)
            for index in 0..<500 { try push.send("\(index)".bytes) }
        }
        for index in 0..<500 {
            #expect(try pull.receive().text == "\(index)")
        }
        producer.join()
    }

    @Test func workIsSharedBetweenPullers() throws {
        let context = try Context()
        let push = try context.socket(.push)
        let endpoint = try Transport.tcp.bind(push)
        let counts = Mutex([0, 0])
        let ready = Mutex(0)
        let workers = (0..<2).map { worker in
            PeerThread {
                let pull = try context.socket(.pull)
                try pull.set(.receiveHighWaterMark, 10)
                try pull.connect(endpoint)
                ready.withLock { $0 += 1 }
                while true {
                    let message = try pull.receive().text
                    if message == "stop" { return }
                    counts.withLock { $0[worker] += 1 }
                }
            }
        }
        // Wait until both pullers are connected, so round-robin has two peers to use.
        while ready.withLock({ $0 }) < 2 { Thread.sleepBriefly() }
        try push.set(.immediate, true)
        var poller = Poller()
        try poller.register(push, for: .writable)
        _ = try poller.poll(timeout: .seconds(5))
        Thread.sleepBriefly(milliseconds: 100)
        for index in 0..<200 { try push.send("job \(index)".bytes) }
        try push.send("stop".bytes)
        try push.send("stop".bytes)
        workers.forEach { $0.join() }
        let final = counts.withLock { $0 }
        #expect(final[0] + final[1] == 200)
        #expect(final[0] > 0 && final[1] > 0)
    }
}
