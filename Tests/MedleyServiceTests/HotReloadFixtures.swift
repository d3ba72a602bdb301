import Foundation
import MedleyModel
import MedleyProtocol
import Synchronization
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyModelDistribution
@testable import MedleyService

/// Models, publishers and servers for the hot-reload tests.
enum HotReloadFixtures {
    /// Model contents with seeded random weights (the seed defaults to the version), with the
    /// domains and sizes chosen: items `n0`, `n1`, … `v0`, … `m0`, ….
    static func contents(
        version: UInt64, seed: UInt64? = nil, domains: [String] = ServiceFixtures.domains,
        itemsPerDomain: Int = 20, embeddingDimension: Int = 8, users: [String] = ["known-user"]
    ) throws -> ModelFileContents {
        let configuration = ModelConfiguration(modelVersion: version, domains: domains, embeddingDimension: embeddingDimension, hiddenDimensions: [16])
        var ids: [String] = []
        var domainOfItem: [Int] = []
        for (index, domain) in domains.enumerated() {
            for item in 0..<itemsPerDomain {
                ids.append("\(domain.prefix(1))\(item)")
                domainOfItem.append(index)
            }
        }
        let catalog = try ItemCatalog(ids: ids, domainOfItem: domainOfItem, domainCount: domains.count)
        return try ModelFileContents.initialized(configuration: configuration, catalog: catalog, users: try UserVocabulary(ids: users), seed: seed ?? version)
    }

    /// A publication of `bytes`, described as `contents` and signed with `key`, unchecked:
    /// how a faulty or hostile trainer would publish.
    static func publication(of contents: ModelFileContents, bytes: [UInt8], signedWith key: ModelSigningKey?) -> ModelPublication {
        ModelPublication(
            announcement: ModelPublication.announcement(describing: contents, bytes: bytes, signingKey: key, createdAtMs: ServiceFixtures.nowMs),
            modelBytes: bytes
        )
    }

    /// A publisher on loopback with ports chosen by the system.
    static func publisher(signingKey: ModelSigningKey? = nil, snapshots: Bool = true) throws -> ModelPublisher {
        try ModelPublisher(configuration: ModelPublisherConfiguration(
            publicationEndpoint: "tcp://127.0.0.1:*", snapshotEndpoint: snapshots ? "tcp://127.0.0.1:*" : nil, signingKey: signingKey))
    }

    /// A server that starts with `model` and subscribes to `publisher`.
    static func server(model: MultitaskModel?, subscribedTo publisher: ModelPublisher, trainerKey: ModelVerificationKey? = nil,
                       configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> RunningServer {
        try RunningServer(model: model, logDirectory: try ServiceFixtures.temporaryDirectory()) { configuration in
            configuration.modelUpdates.subscription = ModelUpdateConfiguration.Subscription(
                publicationEndpoint: publisher.boundPublicationEndpoint, snapshotEndpoint: publisher.boundSnapshotEndpoint)
            configuration.modelUpdates.trainerKey = trainerKey
            configuration.modelUpdates.snapshotRetryMilliseconds = 100
            configure(&configuration)
        }
    }

    static func recommendRequest(user: String, k: UInt32 = 5) -> Medley_V1_RecommendRequest {
        var request = Medley_V1_RecommendRequest()
        request.userID = user
        request.k = k
        return request
    }
}

/// Clients that send recommend requests back to back on threads of their own, recording
/// every failure and the model version of every reply, until stopped.
final class RecommendLoad: Sendable {
    private struct State {
        var stopping = false
        var versions: [[UInt64]]
        var failures: [String] = []
    }

    private let state: Mutex<State>
    private let done = DispatchSemaphore(value: 0)
    let clients: Int

    init(clients: Int, endpoint: String, context: Context, sessionEvents: Bool = true) {
        self.clients = clients
        state = Mutex(State(versions: Array(repeating: [], count: clients)))
        for index in 0..<clients {
            let thread = Thread { [self] in
                run(client: index, endpoint: endpoint, context: context)
                done.signal()
            }
            thread.start()
        }
    }

    private func run(client index: Int, endpoint: String, context: Context) {
        do {
            let client = try ServiceClient(context: context, endpoint: endpoint, timeoutMilliseconds: 10_000)
            let user = "load-\(index)"
            let now = ServiceFixtures.nowMs
            _ = try client.ingest([ServiceFixtures.event(user: user, item: "v\(index)", domain: "video", at: now)])
            while !state.withLock({ $0.stopping }) {
                let reply = try client.recommend(HotReloadFixtures.recommendRequest(user: user))
                state.withLock { $0.versions[index].append(reply.modelVersion) }
            }
        } catch {
            state.withLock { $0.failures.append("client \(index): \(error)") }
        }
    }

    /// Every version any client has been answered by.
    var versionsSeen: Set<UInt64> {
        state.withLock { Set($0.versions.joined()) }
    }

    var failures: [String] {
        state.withLock { $0.failures }
    }

    /// Stops the clients and returns each client's versions, in reply order.
    func stop() -> [[UInt64]] {
        state.withLock { $0.stopping = true }
        for _ in 0..<clients { _ = done.wait(timeout: .now() + 30) }
        return state.withLock { $0.versions }
    }
}

/// The resident set size of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
