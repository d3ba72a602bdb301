import ArgumentParser
import Foundation
import MedleyClient
import MedleyModel

/// `medley bench load`: drives any server that speaks the request protocol with recommend
/// requests and prints what it measured as JSON.
struct BenchLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive a running server with recommend requests; print throughput and latency as JSON.",
        discussion: """
            Closed loop (the default): --clients connections each keep --in-flight requests \
            outstanding, which measures peak throughput. Open loop (--rate R): R requests per \
            second in total go out on schedule whatever the replies do, so queueing shows; \
            latency then counts from when a request was due. Percentiles come from a \
            log-linear histogram (at most 1.6 % above the true value). Requests cycle through \
            --users user ids; with --model, each carries --context-events events on random \
            items of that model's catalogue (seen items are excluded from the answers). With \
            --ingest-events N the requests are ingest requests of N plays each instead, and \
            the report adds the events acknowledged durable per second.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The server's client endpoint.") var connect: String = "tcp://127.0.0.1:5555"
    @Option(help: "Connections, one thread each.") var clients: Int = 1
    @Option(help: "Requests each connection keeps outstanding (closed loop).") var inFlight: Int = 1
    @Option(help: "Requests per second in total: an open-loop run at this rate.") var rate: Double?
    @Option(help: "Seconds measured.") var seconds: Double = 10
    @Option(help: "Seconds of load before measuring.") var warmUpSeconds: Double = 1
    @Option(help: "Distinct user ids.") var users: Int = 1000
    @Option(help: "Items per list.") var k: UInt32 = 10
    @Option(help: "A model file whose items the context events name.") var model: String?
    @Option(help: "Context events per request (with --model).") var contextEvents: Int = 5
    @Option(help: "Send ingest requests of this many events each (with --model) instead of recommend requests.")
    var ingestEvents: Int = 0

    func validate() throws {
        guard clients > 0, inFlight > 0, seconds > 0, warmUpSeconds >= 0, users > 0, contextEvents >= 0 else {
            throw ValidationError("--clients, --in-flight, --seconds and --users must be positive, --warm-up-seconds and --context-events not negative")
        }
        if let rate, !(rate > 0 && rate.isFinite) { throw ValidationError("--rate must be a positive number of requests per second") }
        if let model, !FileManager.default.fileExists(atPath: model) { throw ValidationError("no model file at \(model)") }
        guard ingestEvents >= 0 else { throw ValidationError("--ingest-events must not be negative") }
        if ingestEvents > 0 && model == nil { throw ValidationError("--ingest-events needs --model: the events name its items") }
    }

    func run() throws {
        global.bootstrapLogging()
        let pattern: LoadPattern = rate.map { .openLoop(clients: clients, requestsPerSecond: $0) }
            ?? .closedLoop(clients: clients, inFlight: inFlight)
        var configuration = LoadConfiguration(endpoint: connect, pattern: pattern)
        configuration.seconds = seconds
        configuration.warmUpSeconds = warmUpSeconds
        configuration.users = users
        configuration.k = k
        configuration.contextEvents = contextEvents
        configuration.ingestEventsPerRequest = ingestEvents
        if let model {
            let contents: ModelFileContents
            do {
                contents = try ModelFile.read(URL(fileURLWithPath: model))
            } catch {
                throw ValidationError("the model \(model) was refused: \(error)")
            }
            let domains = contents.configuration.domains
            configuration.items = zip(contents.catalog.ids, contents.catalog.domainOfItem).map { (domains[$1], $0) }
        }
        let report = try LoadGenerator.run(configuration)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
