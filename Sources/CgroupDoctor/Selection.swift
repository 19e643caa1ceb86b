/// Which findings a user asked to see: `--pid`, `--container`, `--pod`, `--severity`, `--ignore`.
public struct Selection: Sendable, Hashable {
    public var pids: Set<Int32>
    /// Container ids or unique prefixes (`bcab873e8fab`).
    public var containers: [String]
    /// Pod UIDs, with dashes or underscores.
    public var pods: [String]
    public var minimumSeverity: Severity
    /// Check ids not to run.
    public var ignored: Set<String>

    public init(
        pids: Set<Int32> = [], containers: [String] = [], pods: [String] = [], minimumSeverity: Severity = .info,
        ignored: Set<String> = []
    ) {
        self.pids = pids
        self.containers = containers.map { $0.lowercased() }
        self.pods = pods.map { String($0.lowercased().map { $0 == "_" ? "-" : $0 }) }
        self.minimumSeverity = minimumSeverity
        self.ignored = ignored
    }

    public static let everything = Selection()

    /// True when the user narrowed the report to some processes, containers or pods.
    public var selectsWorkloads: Bool { !pids.isEmpty || !containers.isEmpty || !pods.isEmpty }

    public func matches(_ process: AffectedProcess) -> Bool {
        if pids.contains(process.pid) { return true }
        if let container = process.workload.container, containers.contains(where: { container.id.hasPrefix($0) }) {
            return true
        }
        if let pod = process.workload.pod, pods.contains(pod.uid) { return true }
        return false
    }

    /// Keeps findings at or above the minimum severity; with a workload selection, keeps
    /// node-wide findings plus those that hit a selected process, trimming `affected` to the
    /// selected processes.
    public func apply(_ findings: [Finding]) -> [Finding] {
        findings.compactMap { finding in
            guard finding.severity >= minimumSeverity, !ignored.contains(finding.id) else { return nil }
            guard selectsWorkloads else { return finding }
            var trimmed = finding
            trimmed.affected = finding.affected.filter(matches)
            trimmed.affectedTotal = trimmed.affected.count
            return trimmed.affected.isEmpty && !finding.hostWide ? nil : trimmed
        }
    }
}
