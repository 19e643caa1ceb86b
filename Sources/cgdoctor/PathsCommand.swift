import ArgumentParser
import CgroupDoctor
import CgroupReport

extension Cgdoctor {
    struct PathsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "paths",
            abstract: "Show where a process's cgroups are, per hierarchy, and why any cannot be resolved.")

        @OptionGroup var host: HostOptions

        @Argument(help: "The process id.")
        var pid: Int32

        func validate() throws {
            guard pid > 0 else { throw ValidationError("PID must be a positive process id, got \(pid)") }
        }

        func run() throws {
            let paths: ProcessPaths
            do {
                paths = try host.scanner.paths(of: pid)
            } catch {
                FileHandleOutput.standardError("cgdoctor paths: \(error)")
                throw ExitCode(2)
            }
            switch host.format {
            case .text: print(TextReport.render(paths, style: host.textStyle), terminator: "")
            case .json: print(JSONReport.render(paths), terminator: "")
            }
            if !paths.unresolved.isEmpty || !paths.errors.isEmpty { throw ExitCode(1) }
        }
    }
}
