import CgroupDoctor
import CgroupFormats

/// How text output looks: colour only on a terminal, wrapped to its width.
public struct TextStyle: Sendable {
    public var color: Bool
    public var width: Int

    public init(color: Bool = false, width: Int = 100) {
        self.color = color
        self.width = max(40, width)
    }

    func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func bold(_ text: String) -> String { paint(text, "1") }
    func severity(_ severity: Severity) -> String {
        switch severity {
        case .error: paint("ERROR", "1;31")
        case .warning: paint("WARNING", "1;33")
        case .info: paint("INFO", "1;36")
        }
    }
}

/// The human report: a one-line verdict, then each problem as what, why, evidence, who, what
/// breaks, how to fix. Stable order (severity, then check order).
public enum TextReport {
    /// How many affected processes to list per finding before summarising.
    static let affectedShown = 10

    public static func render(_ report: Report, style: TextStyle = TextStyle()) -> String {
        var out = ""
        let counts = Severity.allCases.reversed().compactMap { severity -> String? in
            let n = report.findings.count { $0.severity == severity }
            return n == 0 ? nil : "\(n) \(severity.rawValue)\(n == 1 ? "" : "s")"
        }
        let scope = "\(report.mode.rawValue) cgroups, \(report.processCount) process\(report.processCount == 1 ? "" : "es"), "
            + "\(report.namespaceCount) mount namespace\(report.namespaceCount == 1 ? "" : "s")"
            + (report.root == "/" ? "" : ", root \(report.root)")
        if counts.isEmpty {
            out += style.bold("cgdoctor: no cgroup problems found") + " (\(scope))\n"
        } else {
            let verdict = (report.worstSeverity ?? .info) >= .warning ? "cgroup problems found" : "notes only, nothing broken"
            out += style.bold("cgdoctor: \(verdict): \(counts.joined(separator: ", "))") + " (\(scope))\n"
        }
        if report.exitedDuringScan > 0 {
            out += "  \(report.exitedDuringScan) process(es) exited during the scan and were skipped\n"
        }
        for problem in report.problems.prefix(5) {
            out += "  could not read \(problem.error)\n"
        }
        if report.problems.count > 5 { out += "  ... and \(report.problems.count - 5) more unreadable file(s)\n" }

        for finding in report.findings {
            out += "\n" + render(finding, style: style)
        }
        return out
    }

    public static func render(_ finding: Finding, style: TextStyle) -> String {
        // The header's visible width (colour codes take no columns) decides the first line's room.
        let header = "\(finding.severity.rawValue.uppercased()) \(finding.id): "
        var out = "\(style.severity(finding.severity)) \(style.bold(finding.id)): "
        out += wrap(finding.summary, indent: 2, width: style.width - 2, firstWidth: style.width - header.count)
        out += "\n"
        out += section("why", [finding.explanation], style)
        out += section(
            "evidence",
            finding.evidence.map { e in e.line.map { "\(e.file):\($0): \(e.text)" } ?? "\(e.file): \(e.text)" }, style,
            wrapLines: false)
        if finding.affectedTotal > 0 {
            out += section("affected", affectedLines(finding), style, wrapLines: false)
        }
        if !finding.impacts.isEmpty {
            out += section(
                "breaks",
                finding.impacts.map { i in "\(i.consumer): \(i.effect)" + (i.message.map { ": \"\($0)\"" } ?? "") }, style)
        }
        out += section("fix", [finding.remediation.text], style)
        for command in finding.remediation.commands {
            out += String(repeating: " ", count: 12) + (command.hasPrefix("#") ? command : "$ " + command) + "\n"
        }
        return out
    }

    /// Who is hit, grouped by pod and container so a node with thousands of processes reads as a
    /// handful of workloads; host processes are listed individually up to a limit.
    static func affectedLines(_ finding: Finding) -> [String] {
        var groups: [Workload: [AffectedProcess]] = [:]
        for process in finding.affected { groups[process.workload, default: []].append(process) }
        // One line per pod/container; host processes one line each.
        var entries: [String] = []
        for workload in groups.keys.sorted() {
            let members = groups[workload] ?? []
            if workload.container != nil || workload.pod != nil {
                let sample = members.prefix(3).map { "\($0.pid) \($0.command ?? "?")" }.joined(separator: ", ")
                let more = members.count > 3 ? ", ..." : ""
                entries.append(
                    "\(workload): \(members.count) process\(members.count == 1 ? "" : "es") (\(sample)\(more)) in \(members[0].cgroupPath)")
            } else {
                entries += members.map { p in
                    "pid \(p.pid) \(p.command ?? "?")  \(p.cgroupPath)" + (workload.unit.map { "  [\($0)]" } ?? "")
                }
            }
        }
        let total = finding.affectedTotal
        var lines = ["\(total) process\(total == 1 ? "" : "es") in \(groups.count) workload\(groups.count == 1 ? "" : "s"):"]
        lines += entries.prefix(affectedShown)
        if entries.count > affectedShown {
            lines.append("... \(entries.count - affectedShown) more (use --format json for every process)")
        }
        return lines
    }

    static func section(_ title: String, _ lines: [String], _ style: TextStyle, wrapLines: Bool = true) -> String {
        var out = ""
        for (index, line) in lines.enumerated() {
            let label = index == 0 ? "  " + title.padded(to: 10) : String(repeating: " ", count: 12)
            if wrapLines {
                out += label + wrap(line, indent: 12, width: style.width - 12) + "\n"
            } else {
                out += label + line + "\n"
            }
        }
        return out
    }

    /// Greedy word wrap; continuation lines are indented by `indent` spaces and hold `width`
    /// characters, the first line `firstWidth` (default: the same).
    static func wrap(_ text: String, indent: Int, width: Int, firstWidth: Int? = nil) -> String {
        var lines: [String] = []
        var current = ""
        var limit = max(20, firstWidth ?? width)
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty && current.count + 1 + word.count > limit {
                lines.append(current)
                current = String(word)
                limit = max(20, width)
            } else {
                current += current.isEmpty ? String(word) : " " + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\n" + String(repeating: " ", count: indent))
    }

    /// `cgdoctor paths` as text: one line per hierarchy.
    public static func render(_ paths: ProcessPaths, style: TextStyle = TextStyle()) -> String {
        var out = style.bold("pid \(paths.pid)") + ": \(paths.cgroupFile) resolved against \(paths.mountInfoFile)\n"
        for resolved in paths.lines {
            let entry = resolved.entry
            let head = "  \(entry.hierarchyID):\(entry.hierarchyLabel)".padded(to: 28)
            switch resolved.resolution {
            case .resolved(let directory, let mount):
                out += "\(head) \(directory.string)"
                out += mount.root == "/" ? "\n" : "   (mount root \(mount.root.string))\n"
            case .unresolved(let reason):
                out += "\(head) \(style.paint("UNRESOLVED", "1;31")): \(reason.explanation(pid: nil))\n"
            }
        }
        for error in paths.errors {
            out += "  \(style.paint("UNPARSEABLE", "1;31")) \(error)\n"
        }
        return out
    }
}

extension String {
    /// Pads with spaces to `width` characters (never truncates). Foundation's `padding(toLength:)`
    /// is not in FoundationEssentials.
    public func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
