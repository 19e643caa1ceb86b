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

        func validate() throws {
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
            let checks = Checks.all.filter { !ignore.contains($0.id) }
            let report: Report
            do {
                report = try Diagnosis.check(host.scanner, checks: checks)
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
