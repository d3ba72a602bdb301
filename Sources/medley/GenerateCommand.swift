import ArgumentParser

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate a synthetic data set with planted structure.",
        discussion: """
            Users whose taste is shared across domains and sessions with a short-term intent, with \
            a known answer, written as event-log segments; tests check that the model learns \
            what was planted.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "gen", needs: "the training module (synthetic data)")
    }
}
