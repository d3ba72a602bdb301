import ArgumentParser

struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Ask a running server for recommendations for a user.",
        discussion: """
            Prints each domain's ranked list, the session head's cross-domain list, the \
            next-domain probabilities and the model version that answered, readably or as JSON.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "recommend", needs: "the service module (recommendations)")
    }
}
