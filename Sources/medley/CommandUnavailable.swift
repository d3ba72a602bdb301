/// The error a subcommand gives while the part of Medley it drives is not in this build.
struct CommandUnavailable: Error, CustomStringConvertible {
    let command: String
    let needs: String

    var description: String {
        "`medley \(command)` is not available in this version of Medley: it needs \(needs), which this build does not include yet."
    }
}
