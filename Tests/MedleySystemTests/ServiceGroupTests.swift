import Logging
import MedleySystem
import Synchronization
import Testing

/// Records the order of stops and joins across services.
private final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    func note(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

private struct StartFailed: Error {}

@Suite("service group")
struct ServiceGroupTests {
    private func service(_ name: String, _ journal: Journal) -> ServiceHandle {
        ServiceHandle(stop: { journal.note("stop \(name)") }, join: { journal.note("join \(name)") })
    }

    @Test func servicesStopInReverseOrderEachJoinedBeforeTheNextStops() {
        let journal = Journal()
        let group = ServiceGroup(logger: Logger(label: "test"))
        for name in ["log", "worker", "metrics"] { group.add(name, service(name, journal)) }
        group.stopAll()
        group.stopAll()
        #expect(journal.all == ["stop metrics", "join metrics", "stop worker", "join worker", "stop log", "join log"])
    }

    @Test func aStartUpThatThrowsStillStopsWhatHadStarted() {
        let journal = Journal()
        func start() throws {
            let group = ServiceGroup(logger: Logger(label: "test"))
            defer { group.stopAll() }
            group.add("log", service("log", journal))
            group.add("worker", service("worker", journal))
            throw StartFailed()
        }
        #expect(throws: StartFailed.self) { try start() }
        #expect(journal.all == ["stop worker", "join worker", "stop log", "join log"])
    }

    @Test func anOwnedThreadIsJoined() {
        let journal = Journal()
        let thread = OwnedThread(name: "test") { journal.note("ran") }
        thread.join()
        #expect(journal.all == ["ran"])
    }
}
