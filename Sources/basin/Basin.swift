// The `basin` command-line tool: one root command with a subcommand per job. It connects
// the libraries; it owns no numerics of its own. Results go to stdout and files, progress
// to stderr; bad input ends with a one-line error and a non-zero exit.
import ArgumentParser
import BasinCheckpoint

@main
struct Basin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "basin",
        abstract: "Train, ensemble and dissect networks fine-tuned from a pre-trained checkpoint.",
        version: basinVersion,
        subcommands: [
            Train.self,
            Pretrain.self,
            Finetune.self,
            Ensemble.self,
            Sweep.self,
            Inspect.self,
            Evaluate.self,
            Interpolate.self,
            Plane.self,
            Surface.self,
            SimplexCommand.self,
            Merge.self,
            DiversityCommand.self,
            MetricsCommand.self,
            SoupCommand.self,
            Membership.self,
            Report.self,
            Plot.self,
            Bench.self,
        ])
}


