import MedleySystem
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("stop signal")
struct StopSignalTests {
    @Test func theStopSignalStaysTriggered() {
        let stop = StopSignal()
        #expect(!stop.wait(milliseconds: 0))
        stop.trigger()
        stop.trigger()
        #expect(stop.wait(milliseconds: 0))
        #expect(stop.wait(milliseconds: 0))
    }

    /// A supervisor may send SIGTERM the moment a process has set up; the signal must stop
    /// it rather than be dropped while the handling is still being registered.
    /// (One test for both signals: its cases must not run in parallel, since the test process
    /// gets the default dispositions back at the end, so that it can still be stopped.)
    @Test func aTerminationSignalRightAfterSetUpTriggersIt() {
        defer {
            signal(SIGTERM, SIG_DFL)
            signal(SIGINT, SIG_DFL)
        }
        for signalNumber in [SIGTERM, SIGINT] {
            for attempt in 0..<20 {
                let stop = StopSignal()
                stop.triggerOnTerminationSignals()
                // To this thread only, where registering unblocked it: the other tests'
                // threads, running meanwhile, are not interrupted.
                pthread_kill(pthread_self(), signalNumber)
                #expect(stop.wait(milliseconds: 2_000), "signal \(signalNumber), attempt \(attempt): the signal was lost")
            }
        }
    }
}
