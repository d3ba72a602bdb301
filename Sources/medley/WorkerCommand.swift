import ArgumentParser

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one serving worker as a separate process, connected to a broker.",
        discussion: """
            The same worker code that `medley serve` runs on its own threads, reaching the broker \
            only through ZeroMQ: `medley worker --connect tcp://HOST:PORT` adds capacity on \
            another process or host.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "worker", needs: "the service module (workers)")
    }
}
