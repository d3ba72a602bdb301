import ArgumentParser

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send session events to a running server.",
        discussion: """
            Events come from flags (one event) or a JSON-lines file (one event per line). Prints \
            how many the server accepted, each rejection with its reason, and the durable \
            position of the batch.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "send", needs: "the service module (event ingest)")
    }
}
