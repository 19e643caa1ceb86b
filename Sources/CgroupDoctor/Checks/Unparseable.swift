import CgroupFormats

/// `unparseable`: a line of mountinfo, `/proc/<pid>/cgroup` or `/proc/cgroups` that the parser
/// rejects. The kernel formats are stable, so this means a corrupted capture, a kernel with a new
/// format, or a FUSE/LXCFS layer that rewrites /proc; either way every tool that reads the file
/// may misread it, and cgdoctor's other findings about that file are incomplete.
/// Fixture: `Tests/CgroupDoctorTests/Fixtures/hosts/unparseable-lines`.
public struct Unparseable: Check {
    public init() {}
    public let id = "unparseable"
    public let severity = Severity.error
    public let title = "a line of mountinfo, /proc/<pid>/cgroup or /proc/cgroups that cgdoctor cannot parse"

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        var errors: [ParseError] = []
        errors += snapshot.controllers?.errors ?? []
        for namespace in snapshot.namespaces { errors += namespace.mountInfo.errors }
        for process in snapshot.processes { errors += process.cgroups.errors }
        // Identical lines in many /proc/<pid>/cgroup files are one problem: merge by field, reason and text.
        var groups: [String: [ParseError]] = [:]
        var order: [String] = []
        for error in errors {
            let key = "\(error.field)\u{0}\(error.reason)\u{0}\(error.text)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(error)
        }
        return order.map { key in
            let group = groups[key] ?? []
            let first = group[0]
            let where_ = group.count == 1 ? "\(first.file):\(first.line)" : "\(first.file):\(first.line) and \(group.count - 1) other file(s)"
            return Finding(
                id: id, severity: severity,
                summary: "cannot parse \(where_): field \"\(first.field)\": \(first.reason)",
                explanation: "The line does not follow the kernel's format for this file, so cgdoctor skipped it, "
                    + "and runtimes that read the same file may misread it or fail. Findings about this file are incomplete.",
                evidence: group.prefix(20).map { Evidence(file: $0.file, line: $0.line, text: $0.text) },
                remediation: Remediation(
                    text: "Find what produced the line (a FUSE or LXCFS layer over /proc, a hand-edited capture, a kernel newer "
                        + "than cgdoctor knows) and report it with the quoted line.",
                    commands: []))
        }
    }
}
