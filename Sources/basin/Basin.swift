// The `basin` command-line tool: one root command with a subcommand per job. It connects
// the libraries; it owns no numerics of its own.
import ArgumentParser

@main
struct Basin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "basin",
        abstract: "Train, ensemble and dissect networks fine-tuned from a pre-trained checkpoint.",
        subcommands: [])
}
