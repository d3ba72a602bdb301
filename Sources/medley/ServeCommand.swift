import ArgumentParser

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the recommender service: broker, workers, event log and model manager.",
        discussion: """
            Binds a ZeroMQ ROUTER socket for clients (tcp://127.0.0.1:5555 by default), runs a \
            pool of workers that keep users' sessions and score the model, appends accepted \
            events to the durable event log and acknowledges them once they are on disk, and \
            swaps in new model versions published by `medley train`. SIGTERM or SIGINT stops \
            taking requests, answers those in flight, flushes the log and exits 0.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "serve", needs: "the service module (broker, workers, event log)")
    }
}
