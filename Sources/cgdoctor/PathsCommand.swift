import ArgumentParser
import CgroupDoctor
import CgroupReport

extension Cgdoctor {
    struct PathsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "paths",
            abstract: "Show where a process's cgroups are, per hierarchy, and why any cannot be resolved.")

        @OptionGroup var host: HostOptions

        @OptionGroup var process: ProcessArgument
        var pid: Int32 { process.pid }

        func run() throws {
            let paths = try orCouldNotRun("paths") { try host.scanner.paths(of: pid) }
            switch host.format {
            case .text: print(TextReport.render(paths, style: host.textStyle), terminator: "")
            case .json: print(JSONReport.render(paths), terminator: "")
            }
            if !paths.unresolved.isEmpty || !paths.errors.isEmpty { throw ExitCode(1) }
        }
    }
}
