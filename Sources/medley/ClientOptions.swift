import ArgumentParser

/// Options of the commands that talk to a running server.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server's client endpoint.")
    var endpoint: String = "tcp://127.0.0.1:5555"

    @Option(help: "Milliseconds to wait for the reply.")
    var timeoutMilliseconds: Int32 = 5000

    @Flag(help: "Print the reply as JSON.")
    var json = false

    @OptionGroup(title: "CURVE (docs/deployment.md)") var curve: CurveClientOptions

    func validate() throws {
        guard timeoutMilliseconds > 0 else { throw ValidationError("--timeout-milliseconds must be positive") }
    }
}
