import ArgumentParser

@main
struct Medley: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "medley",
        abstract: "A cross-domain, session-aware recommender service for news, video and music.",
        discussion: """
            Clients send session events over ZeroMQ to `medley serve`, which keeps each user's \
            live session and answers recommendation requests with one ranked list per domain \
            and a cross-domain "what next" list. `medley train` learns the model from the \
            logged events and publishes new weights that running servers swap in.
            """,
        version: MedleyVersion.string,
        subcommands: [
            ServeCommand.self,
            SignCommand.self,
            WorkerCommand.self,
            SendCommand.self,
            RecommendCommand.self,
            ImportCommand.self,
            GenerateCommand.self,
            TrainCommand.self,
            EvaluateCommand.self,
            InspectCommand.self,
            BenchCommand.self,
            KeygenCommand.self,
            PublishCommand.self,
        ]
    )
}

enum MedleyVersion {
    static let string = "0.1.0"
}
