import CgroupDoctor
import CgroupFormats
#if canImport(FoundationEssentials)
import FoundationEssentials  // JSONEncoder without ICU: ~5 MiB less RSS and faster start-up
#else
import Foundation
#endif

/// The JSON contract of `cgdoctor check --format json` and `cgdoctor paths --format json`.
/// Documented in docs/json-schema.md. Bump ``schemaVersion`` on any incompatible change; adding a
/// key is compatible.
public enum JSONReport {
    public static let schemaVersion = 1

    public static func render(_ report: Report) -> String {
        encode(CheckDocument(report))
    }

    public static func render(_ paths: ProcessPaths) -> String {
        encode(PathsDocument(paths))
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        } catch {
            // Every value here is a string, number, bool, array or object; encoding cannot fail.
            return "{\"schemaVersion\": \(schemaVersion), \"error\": \"JSON encoding failed: \(error)\"}\n"
        }
    }
}

struct CheckDocument: Encodable {
    let report: Report
    init(_ report: Report) { self.report = report }

    enum Keys: String, CodingKey {
        case schemaVersion, tool, host, summary, problems, findings
    }
    enum HostKeys: String, CodingKey {
        case root, cgroupMode, runtimePid, processes, mountNamespaces, exitedDuringScan
    }
    enum ToolKeys: String, CodingKey { case name, version }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(JSONReport.schemaVersion, forKey: .schemaVersion)
        var tool = c.nestedContainer(keyedBy: ToolKeys.self, forKey: .tool)
        try tool.encode("cgdoctor", forKey: .name)
        try tool.encode(CgdoctorVersion.current, forKey: .version)
        var host = c.nestedContainer(keyedBy: HostKeys.self, forKey: .host)
        try host.encode(report.root, forKey: .root)
        try host.encode(report.mode.rawValue, forKey: .cgroupMode)
        try host.encode(report.referencePID, forKey: .runtimePid)
        try host.encode(report.processCount, forKey: .processes)
        try host.encode(report.namespaceCount, forKey: .mountNamespaces)
        try host.encode(report.exitedDuringScan, forKey: .exitedDuringScan)
        var counts: [String: Int] = [:]
        for severity in Severity.allCases { counts[severity.rawValue] = report.findings.count { $0.severity == severity } }
        try c.encode(counts, forKey: .summary)
        try c.encode(report.problems.map(ProblemJSON.init), forKey: .problems)
        try c.encode(report.findings.map(FindingJSON.init), forKey: .findings)
    }
}

struct ProblemJSON: Encodable {
    let problem: ReadProblem
    init(_ problem: ReadProblem) { self.problem = problem }
    enum Keys: String, CodingKey { case path, syscall, errno, message, pid }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(problem.error.path, forKey: .path)
        try c.encode(problem.error.syscall, forKey: .syscall)
        try c.encode(problem.error.errnoName, forKey: .errno)
        try c.encode(problem.error.description, forKey: .message)
        try c.encode(problem.pid, forKey: .pid)
    }
}

struct FindingJSON: Encodable {
    let finding: Finding
    init(_ finding: Finding) { self.finding = finding }
    enum Keys: String, CodingKey {
        case id, severity, summary, explanation, evidence, affected, affectedTotal, impacts, remediation, hierarchy,
            mountedElsewhere
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(finding.id, forKey: .id)
        try c.encode(finding.severity.rawValue, forKey: .severity)
        try c.encode(finding.summary, forKey: .summary)
        try c.encode(finding.explanation, forKey: .explanation)
        try c.encode(finding.evidence.map(EvidenceJSON.init), forKey: .evidence)
        try c.encode(finding.affected.map(AffectedJSON.init), forKey: .affected)
        try c.encode(finding.affectedTotal, forKey: .affectedTotal)
        try c.encode(finding.impacts.map(ImpactJSON.init), forKey: .impacts)
        try c.encode(RemediationJSON(finding.remediation), forKey: .remediation)
        if let hierarchy = finding.hierarchy { try c.encode(HierarchyJSON(hierarchy), forKey: .hierarchy) }
        if !finding.mountedElsewhere.isEmpty {
            try c.encode(finding.mountedElsewhere.map(NamespaceMountJSON.init), forKey: .mountedElsewhere)
        }
    }
}

struct EvidenceJSON: Encodable {
    let evidence: Evidence
    init(_ evidence: Evidence) { self.evidence = evidence }
    enum Keys: String, CodingKey { case file, line, text }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(evidence.file, forKey: .file)
        try c.encode(evidence.line, forKey: .line)
        try c.encode(evidence.text, forKey: .text)
    }
}

struct AffectedJSON: Encodable {
    let process: AffectedProcess
    init(_ process: AffectedProcess) { self.process = process }
    enum Keys: String, CodingKey { case pid, comm, cgroupPath, container, pod, unit }
    enum ContainerKeys: String, CodingKey { case runtime, id }
    enum PodKeys: String, CodingKey { case uid, qos }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(process.pid, forKey: .pid)
        try c.encode(process.command, forKey: .comm)
        try c.encode(process.cgroupPath, forKey: .cgroupPath)
        if let container = process.workload.container {
            var n = c.nestedContainer(keyedBy: ContainerKeys.self, forKey: .container)
            try n.encode(container.runtime, forKey: .runtime)
            try n.encode(container.id, forKey: .id)
        } else {
            try c.encodeNil(forKey: .container)
        }
        if let pod = process.workload.pod {
            var n = c.nestedContainer(keyedBy: PodKeys.self, forKey: .pod)
            try n.encode(pod.uid, forKey: .uid)
            try n.encode(pod.qos, forKey: .qos)
        } else {
            try c.encodeNil(forKey: .pod)
        }
        try c.encode(process.workload.unit, forKey: .unit)
    }
}

struct ImpactJSON: Encodable {
    let impact: Impact
    init(_ impact: Impact) { self.impact = impact }
    enum Keys: String, CodingKey { case consumer, effect, message }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(impact.consumer, forKey: .consumer)
        try c.encode(impact.effect, forKey: .effect)
        try c.encode(impact.message, forKey: .message)
    }
}

struct RemediationJSON: Encodable {
    let remediation: Remediation
    init(_ remediation: Remediation) { self.remediation = remediation }
    enum Keys: String, CodingKey { case text, commands }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(remediation.text, forKey: .text)
        try c.encode(remediation.commands, forKey: .commands)
    }
}

struct HierarchyJSON: Encodable {
    let hierarchy: Hierarchy
    init(_ hierarchy: Hierarchy) { self.hierarchy = hierarchy }
    enum Keys: String, CodingKey { case id, name, controllers }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(hierarchy.id, forKey: .id)
        try c.encode(hierarchy.name, forKey: .name)
        try c.encode(hierarchy.controllers.map(\.rawValue), forKey: .controllers)
    }
}

struct NamespaceMountJSON: Encodable {
    let mount: NamespaceMount
    init(_ mount: NamespaceMount) { self.mount = mount }
    enum Keys: String, CodingKey { case mountNamespace, pid, comm, mountPoint }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(mount.namespace, forKey: .mountNamespace)
        try c.encode(mount.pid, forKey: .pid)
        try c.encode(mount.command, forKey: .comm)
        try c.encode(mount.mountPoint, forKey: .mountPoint)
    }
}

struct PathsDocument: Encodable {
    let paths: ProcessPaths
    init(_ paths: ProcessPaths) { self.paths = paths }
    enum Keys: String, CodingKey { case schemaVersion, pid, cgroupFile, mountInfoFile, lines, errors }
    enum LineKeys: String, CodingKey {
        case line, hierarchyId, controllers, name, cgroupPath, resolved, directory, mountPoint, mountRoot, reason
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(JSONReport.schemaVersion, forKey: .schemaVersion)
        try c.encode(paths.pid, forKey: .pid)
        try c.encode(paths.cgroupFile, forKey: .cgroupFile)
        try c.encode(paths.mountInfoFile, forKey: .mountInfoFile)
        var lines = c.nestedUnkeyedContainer(forKey: .lines)
        for resolved in paths.lines {
            var l = lines.nestedContainer(keyedBy: LineKeys.self)
            let entry = resolved.entry
            try l.encode(entry.line, forKey: .line)
            try l.encode(entry.hierarchyID, forKey: .hierarchyId)
            try l.encode(entry.controllers.map(\.rawValue), forKey: .controllers)
            try l.encode(entry.name, forKey: .name)
            try l.encode(entry.path.string, forKey: .cgroupPath)
            switch resolved.resolution {
            case .resolved(let directory, let mount):
                try l.encode(true, forKey: .resolved)
                try l.encode(directory.string, forKey: .directory)
                try l.encode(mount.mountPoint.string, forKey: .mountPoint)
                try l.encode(mount.root.string, forKey: .mountRoot)
                try l.encodeNil(forKey: .reason)
            case .unresolved(let reason):
                try l.encode(false, forKey: .resolved)
                try l.encodeNil(forKey: .directory)
                try l.encodeNil(forKey: .mountPoint)
                try l.encodeNil(forKey: .mountRoot)
                try l.encode(reason.explanation(pid: paths.pid), forKey: .reason)
            }
        }
        try c.encode(paths.errors.map { EvidenceJSON(Evidence(file: $0.file, line: $0.line, text: $0.description)) }, forKey: .errors)
    }
}

/// The version printed by `--version` and in JSON.
public enum CgdoctorVersion {
    public static let current = "0.1.0"
}
