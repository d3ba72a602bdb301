import ArgumentParser

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the multitask model from the event log and write a model file.",
        discussion: """
            Trains the shared encoder, the domain heads and the session head on each user's \
            chronological stream, writes models/<version>.safetensors atomically and can \
            publish each new version to running servers.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "train", needs: "the training module (trainer)")
    }
}
