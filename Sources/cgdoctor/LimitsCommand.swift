import ArgumentParser
import CgroupDoctor
import CgroupReport

extension Cgdoctor {
    struct LimitsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "limits",
            abstract: "Show a process's effective CPU, memory and pids limits, every level up to the mount root, and which binds.",
            discussion: """
                Files are found through the mounts of --runtime-pid (PID 1 by default): the view cgdoctor reads from.
                Exit status: 0 the limits were read (unreadable levels are part of the answer), 2 could not run.
                """)

        @OptionGroup var host: HostOptions

        @OptionGroup var process: ProcessArgument
        var pid: Int32 { process.pid }

        func run() throws {
            let limits = try orCouldNotRun("limits") {
                try LimitsReader(sysroot: host.sysroot, referencePID: host.runtimePid).limits(of: pid)
            }
            switch host.format {
            case .text: print(LimitsReport.render(limits, style: host.textStyle), terminator: "")
            case .json: print(LimitsReport.renderJSON(limits), terminator: "")
            }
        }
    }
}
