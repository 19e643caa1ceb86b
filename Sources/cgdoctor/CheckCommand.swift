import ArgumentParser
import CgroupDoctor
import CgroupReport

extension Cgdoctor {
    struct CheckCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Scan the whole node and report every cgroup problem, with evidence and a fix.")

        @OptionGroup var host: HostOptions

        @Option(name: .long, help: ArgumentHelp("Skip this check (repeatable). See --list-checks.", valueName: "check-id"))
        var ignore: [String] = []

        @Flag(name: .long, help: "List every check with its id and severity, then exit.")
        var listChecks = false

        @Option(name: .long, help: ArgumentHelp("Only findings that hit this process (repeatable).", valueName: "pid"))
        var pid: [Int32] = []

        @Option(name: .long, help: ArgumentHelp("Only findings that hit this container id or id prefix (repeatable).", valueName: "id"))
        var container: [String] = []

        @Option(name: .long, help: ArgumentHelp("Only findings that hit this pod UID (repeatable).", valueName: "uid"))
        var pod: [String] = []

        @Option(name: .long, help: "Only findings at or above this severity: info, warning or error.")
        var severity: Severity = .info

        func validate() throws {
            if let bad = pid.first(where: { $0 <= 0 }) { throw ValidationError("--pid must be a positive process id, got \(bad)") }
            for id in ignore where Checks.named(id) == nil {
                throw ValidationError("--ignore \(id): no such check; known: \(Checks.all.map(\.id).joined(separator: ", "))")
            }
        }

        func run() throws {
            if listChecks {
                for check in Checks.all {
                    print("\(check.id.padded(to: 26)) \(check.severity.rawValue.padded(to: 8)) \(check.title)")
                }
                return
            }
            let selection = Selection(
                pids: Set(pid), containers: container, pods: pod, minimumSeverity: severity, ignored: Set(ignore))
            let report: Report
            do {
                report = try Diagnosis.check(host.scanner, selection: selection)
            } catch {
                FileHandleOutput.standardError("cgdoctor: cannot examine the host: \(error)")
                throw ExitCode(2)
            }
            switch host.format {
            case .text: print(TextReport.render(report, style: host.textStyle), terminator: "")
            case .json: print(JSONReport.render(report), terminator: "")
            }
            if let worst = report.worstSeverity, worst >= .warning { throw ExitCode(1) }
        }
    }
}

extension Severity: ExpressibleByArgument {}
