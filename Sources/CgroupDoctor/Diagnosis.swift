import CgroupFormats

/// What a node check produced.
public struct Report: Sendable {
    public var root: String
    public var mode: CgroupMode
    public var referencePID: Int32
    public var processCount: Int
    public var namespaceCount: Int
    public var exitedDuringScan: Int
    public var problems: [ReadProblem]
    public var findings: [Finding]

    public init(
        root: String, mode: CgroupMode, referencePID: Int32, processCount: Int, namespaceCount: Int,
        exitedDuringScan: Int, problems: [ReadProblem], findings: [Finding]
    ) {
        self.root = root
        self.mode = mode
        self.referencePID = referencePID
        self.processCount = processCount
        self.namespaceCount = namespaceCount
        self.exitedDuringScan = exitedDuringScan
        self.problems = problems
        self.findings = findings
    }

    /// The most severe finding, nil when there is none.
    public var worstSeverity: Severity? { findings.map(\.severity).max() }
}

/// Runs checks over a snapshot.
public enum Diagnosis {
    /// Runs the selected checks, merges identical findings, and orders them by severity (worst
    /// first), then check order. Pure.
    public static func run(_ snapshot: HostSnapshot, checks: [any Check] = Checks.all, selection: Selection = .everything)
        -> [Finding]
    {
        var findings: [(Int, Finding)] = []
        for (index, check) in checks.enumerated() where !selection.ignored.contains(check.id) {
            findings += merge(check.run(snapshot)).map { (index, $0) }
        }
        let ordered = findings.enumerated().sorted { a, b in
            if a.element.1.severity != b.element.1.severity { return a.element.1.severity > b.element.1.severity }
            if a.element.0 != b.element.0 { return a.element.0 < b.element.0 }
            return a.offset < b.offset
        }.map(\.element.1)
        return selection.apply(ordered)
    }

    /// Findings with the same id, severity, summary and hierarchy are one problem seen several
    /// times (once per process or namespace): merge their evidence and affected processes.
    static func merge(_ findings: [Finding]) -> [Finding] {
        var merged: [Finding] = []
        var index: [String: Int] = [:]
        for finding in findings {
            let key = "\(finding.id)\u{0}\(finding.severity)\u{0}\(finding.summary)\u{0}\(finding.hierarchy?.id ?? -1)"
            if let at = index[key] {
                for evidence in finding.evidence where !merged[at].evidence.contains(evidence) {
                    merged[at].evidence.append(evidence)
                }
                let known = Set(merged[at].affected.map(\.pid))
                let added = finding.affected.filter { !known.contains($0.pid) }
                merged[at].affected += added
                merged[at].affectedTotal += added.count
            } else {
                index[key] = merged.count
                merged.append(finding)
            }
        }
        return merged
    }

    /// Scans the host behind `scanner`, runs the checks, and names the affected processes' commands.
    public static func check(_ scanner: HostScanner, checks: [any Check] = Checks.all, selection: Selection = .everything)
        throws(SystemError) -> Report
    {
        var snapshot = try scanner.snapshot()
        var findings = run(snapshot, checks: checks, selection: selection)
        // Commands are read only for the processes findings name: one more read per named pid,
        // none on a healthy node.
        for index in findings.indices {
            for a in findings[index].affected.indices where findings[index].affected[a].command == nil {
                let pid = findings[index].affected[a].pid
                if snapshot.commands[pid] == nil, let name = scanner.readCommand(pid) { snapshot.commands[pid] = name }
                findings[index].affected[a].command = snapshot.commands[pid]
            }
        }
        return Report(
            root: scanner.sysroot.root.string, mode: snapshot.mode, referencePID: snapshot.referencePID,
            processCount: snapshot.processes.count, namespaceCount: snapshot.namespaces.count,
            exitedDuringScan: snapshot.exitedDuringScan, problems: snapshot.problems, findings: findings)
    }
}
