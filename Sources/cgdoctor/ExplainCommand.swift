import ArgumentParser
import CgroupDoctor
import CgroupReport

extension Cgdoctor {
    struct ExplainCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Show how each container and language runtime will see a process, and where they disagree.",
            discussion: "Exit status: 0 all consumers agree, 1 they disagree (or one fails), 2 could not run.")

        @OptionGroup var host: HostOptions

        @OptionGroup var process: ProcessArgument
        var pid: Int32 { process.pid }

        @Option(name: .customLong("consumer"), help: ArgumentHelp("Only this consumer (repeatable).", valueName: "id"))
        var consumers: [String] = []

        func validate() throws {
            for id in consumers where Consumers.named(id) == nil {
                throw ValidationError(
                    "unknown consumer \"\(id)\"; known: \(Consumers.all.map(\.id).joined(separator: ", "))")
            }
        }

        func run() throws {
            let selected = consumers.isEmpty ? Consumers.all : consumers.compactMap { Consumers.named($0) }
            let explanation = try orCouldNotRun("explain") {
                try Explainer.explain(pid: pid, sysroot: host.sysroot, runtimePID: host.runtimePid, consumers: selected)
            }
            switch host.format {
            case .text: print(ExplainReport.render(explanation, style: host.textStyle), terminator: "")
            case .json: print(ExplainReport.renderJSON(explanation), terminator: "")
            }
            if !explanation.agrees { throw ExitCode(1) }
        }
    }
}
