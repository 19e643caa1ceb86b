import CgroupFormats

/// How bad a finding is. `error`: containers fail to start or run unconfined now; `warning`: a
/// runtime or language runtime misbehaves or will; `info`: worth knowing, nothing breaks.
public enum Severity: String, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case info
    case warning
    case error

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A line of an input file quoted as evidence. `line` is nil when the evidence is an absence
/// ("no line of /proc/1/mountinfo mounts name=cpu_mirror").
public struct Evidence: Sendable, Hashable {
    public var file: String
    public var line: Int?
    public var text: String

    public init(file: String, line: Int?, text: String) {
        self.file = file
        self.line = line
        self.text = text
    }

    public init(_ entry: CgroupEntry, file: String) {
        self.init(file: file, line: entry.line, text: entry.text)
    }

    public init(_ entry: MountEntry, file: String) {
        self.init(file: file, line: entry.line, text: entry.text)
    }
}

/// A process a finding is about.
public struct AffectedProcess: Sendable, Hashable {
    public var pid: Int32
    /// `/proc/<pid>/comm`, nil if it could not be read.
    public var command: String?
    /// Its cgroup path in the hierarchy the finding is about.
    public var cgroupPath: String
    /// The container, pod and unit it belongs to (empty for host processes outside any unit).
    public var workload: Workload

    public init(pid: Int32, command: String?, cgroupPath: String, workload: Workload = Workload()) {
        self.pid = pid
        self.command = command
        self.cgroupPath = cgroupPath
        self.workload = workload
    }
}

/// How a consumer of cgroups is hit: who, how, with which message.
public struct Impact: Sendable, Hashable {
    /// `containerd (io.containerd.runtime.v1.linux)`, `runc`, `HotSpot 8u191-8u202`.
    public var consumer: String
    /// `fails`, `logs and continues`, `unaffected`, `miscounts CPUs`.
    public var effect: String
    /// The exact message it prints, when there is one.
    public var message: String?

    public init(consumer: String, effect: String, message: String?) {
        self.consumer = consumer
        self.effect = effect
        self.message = message
    }
}

/// What to do about it.
public struct Remediation: Sendable, Hashable {
    public var text: String
    /// Copy-pasteable shell commands, in order.
    public var commands: [String]

    public init(text: String, commands: [String]) {
        self.text = text
        self.commands = commands
    }
}

/// Where else a hierarchy is mounted: a mount namespace, the process holding it, the mount.
public struct NamespaceMount: Sendable, Hashable {
    public var namespace: String
    public var pid: Int32
    public var command: String?
    public var mountPoint: String
    public var evidence: Evidence

    public init(namespace: String, pid: Int32, command: String?, mountPoint: String, evidence: Evidence) {
        self.namespace = namespace
        self.pid = pid
        self.command = command
        self.mountPoint = mountPoint
        self.evidence = evidence
    }
}

/// One diagnosis. Data, not text: renderers decide how it looks.
public struct Finding: Sendable, Hashable {
    /// Stable check id (`hierarchy-not-mounted`).
    public var id: String
    public var severity: Severity
    /// One line: what is wrong, naming what it is about.
    public var summary: String
    /// Why it happens: the kernel or runtime behaviour behind it.
    public var explanation: String
    public var evidence: [Evidence]
    /// Processes hit (possibly a sample; see ``affectedTotal``).
    public var affected: [AffectedProcess]
    /// How many processes are hit in total.
    public var affectedTotal: Int
    /// What breaks, per consumer.
    public var impacts: [Impact]
    public var remediation: Remediation
    /// The hierarchy the finding is about, if any.
    public var hierarchy: Hierarchy?
    /// For hierarchy findings: the namespaces where it is mounted after all.
    public var mountedElsewhere: [NamespaceMount]
    /// True when the problem hits the whole node (every container start), not only ``affected``:
    /// selecting a pod or container keeps such findings.
    public var hostWide: Bool

    public init(
        id: String, severity: Severity, summary: String, explanation: String, evidence: [Evidence],
        affected: [AffectedProcess] = [], affectedTotal: Int? = nil, impacts: [Impact] = [], remediation: Remediation,
        hierarchy: Hierarchy? = nil, mountedElsewhere: [NamespaceMount] = [], hostWide: Bool = false
    ) {
        self.id = id
        self.severity = severity
        self.summary = summary
        self.explanation = explanation
        self.evidence = evidence
        self.affected = affected
        self.affectedTotal = affectedTotal ?? affected.count
        self.impacts = impacts
        self.remediation = remediation
        self.hierarchy = hierarchy
        self.mountedElsewhere = mountedElsewhere
        self.hostWide = hostWide
    }
}
