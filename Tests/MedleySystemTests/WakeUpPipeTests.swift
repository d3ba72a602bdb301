import MedleySystem
import Testing

@Suite("wake-up pipe")
struct WakeUpPipeTests {
    @Test func aSignalMakesItReadableUntilDrained() throws {
        let pipe = try WakeUpPipe()
        #expect(!pipe.wait(milliseconds: 0))
        pipe.signal()
        #expect(pipe.wait(milliseconds: 0))
        #expect(pipe.wait(milliseconds: 0), "waiting does not drain")
        pipe.drain()
        #expect(!pipe.wait(milliseconds: 0))
    }

    @Test func signallingAFullPipeNeverBlocks() throws {
        let pipe = try WakeUpPipe()
        // Far more than a pipe's buffer (64 KiB on Linux): a blocking write would hang here.
        for _ in 0..<200_000 { pipe.signal() }
        #expect(pipe.wait(milliseconds: 0))
        pipe.drain()
        #expect(!pipe.wait(milliseconds: 0))
    }

}
