import ArgumentParser

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate the multitask model against baselines.",
        discussion: """
            Trains the multitask model (or takes a given model file) and ranks the whole \
            catalogue for every test target next to popularity, sequential rules, session kNN \
            (V-SKNN) and single-task baselines fitted on the same split. Prints a table with the \
            figures' conditions and can write a JSON report. Progress goes to standard error.
            """,
        subcommands: [EvaluatePublishedCommand.self, EvaluateChronologicalCommand.self, EvaluateSyntheticCommand.self]
    )
}
