import Foundation
import Testing
import ZeroMQ

@Suite("Poller")
struct PollerTests {
    @Test func pollTimesOutWhenNothingIsReady() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        _ = try Transport.inproc.bind(pull)
        var poller = Poller()
        let index = try poller.register(pull)
        let clock = ContinuousClock()
        let started = clock.now
        let ready = try poller.poll(timeout: .milliseconds(50))
        #expect(ready == 0)
        #expect(!poller.isReadable(index))
        // Only a lower bound: the call must not return before its time-out.
        #expect(started.duration(to: clock.now) >= .milliseconds(45))
    }

    @Test func pollFindsTheReadySocketAmongSeveral() throws {
        let context = try Context()
        let quiet = try context.socket(.pull)
        _ = try Transport.inproc.bind(quiet)
        let busy = try context.socket(.pull)
        let endpoint = try Transport.inproc.bind(busy)
        let push = try context.socket(.push)
        try push.connect(endpoint)
        try push.send("work".bytes)

        var poller = Poller()
        let quietIndex = try poller.register(quiet)
        let busyIndex = try poller.register(busy)
        #expect(try poller.poll(timeout: .seconds(5)) == 1)
        #expect(!poller.isReadable(quietIndex))
        #expect(poller.isReadable(busyIndex))
        #expect(try busy.receive(mode: .nonBlocking).text == "work")
    }

    @Test func pollWatchesFileDescriptors() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer { close(descriptors[0]); close(descriptors[1]) }
        var poller = Poller()
        let index = poller.register(fileDescriptor: descriptors[0])
        #expect(try poller.poll(timeout: .zero) == 0)
        var byte: UInt8 = 1
        #expect(write(descriptors[1], &byte, 1) == 1)
        #expect(try poller.poll(timeout: .seconds(5)) == 1)
        #expect(poller.isReadable(index))
    }

    @Test func pollingAClosedSocketIsAnError() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        var poller = Poller()
        try poller.register(pull)
        pull.close()
        expectZMQError(.notASocket) { () throws(ZMQError) in try poller.poll(timeout: .zero) }
    }
}
