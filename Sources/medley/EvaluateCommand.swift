import ArgumentParser

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model against baselines on a chronological split.",
        discussion: """
            Full ranking over the catalogue: HR@K, NDCG@K and MRR@K for each domain head and the \
            session head, next to popularity, session kNN and single-task baselines, with a \
            slice for users cold in the target domain; a table and a JSON report.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        throw CommandUnavailable(command: "eval", needs: "the training module (evaluation)")
    }
}
