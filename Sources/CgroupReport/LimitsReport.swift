import CgroupDoctor
import CgroupFormats
import SystemPackage

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Renders `cgdoctor limits PID`: text (a table per resource, every level, its file, its value and
/// which level binds) and JSON (keys documented in docs/limits.md). Pure functions.
public enum LimitsReport {
    /// Version of the `limits --format json` document; bumped on incompatible change.
    public static let schemaVersion = 1

    // MARK: Text

    public static func render(_ limits: ProcessLimits, style: TextStyle = TextStyle()) -> String {
        var out = style.bold("pid \(limits.pid)") + ": \(limits.cgroupFile) resolved against \(limits.mountInfoFile)\n"
        out += "\n" + style.bold("effective") + "\n"
        out += "  cpu      \(cpuSummary(limits.effectiveCPU))\n"
        out += "  memory   \(effectiveText(limits.effectiveMemory, bytesText))\n"
        if let high = limits.effectiveMemoryHigh {
            out += "  memory.high (throttle, not a limit)  \(effectiveText(high, bytesText))\n"
        }
        out += "  pids     \(effectiveText(limits.pidsMax) { "\($0)" })\n"
        out += table("cpu bandwidth", limits.cpu, style) { bandwidth in
            "\(bandwidth.quota)/\(bandwidth.period) us = \(cores(bandwidth.cores)) CPUs"
        }
        out += table("cpuset", limits.cpuset, style) { "\($0) (\($0.count) CPU\($0.count == 1 ? "" : "s"))" }
        out += table("memory", limits.memory, style, bytesText)
        if let hierarchical = limits.hierarchicalMemoryLimit {
            let location = hierarchical.line.map { "\(hierarchical.file.string):\($0)" } ?? hierarchical.file.string
            out += "  hierarchical_memory_limit  \(location)  \(readingText(hierarchical.reading, bytesText))"
                + "  (the kernel's minimum over every ancestor, including any above the mount root)\n"
        }
        if let high = limits.memoryHigh {
            out += table("memory.high (a throttle: reclaim above it, never an OOM kill)", high, style, bytesText)
        }
        out += table("pids", limits.pids, style) { "\($0)" }
        out += "\n" + style.bold("cpus") + "\n"
        out += "  affinity  \(limits.affinity.file.string)  \(readingText(limits.affinity.reading) { "\($0) (\($0.count))" })\n"
        out += "  online    \(limits.onlineCPUs.file.string)  \(readingText(limits.onlineCPUs.reading) { "\($0) (\($0.count))" })\n"
        for error in limits.errors { out += "  \(style.paint("unparseable", "1;31")) \(error)\n" }
        return out
    }

    static func cpuSummary(_ cpu: EffectiveCPU) -> String {
        var parts: [String] = []
        if let count = cpu.cpus {
            parts.append("\(count) CPU\(count == 1 ? "" : "s") at once" + (cpu.limitedBy.map { " (set by \($0.rawValue))" } ?? ""))
        } else {
            parts.append("CPU count unknown")
        }
        switch cpu.quota {
        case .limited(let value, let file, let complete):
            var text = "quota \(cores(value)) CPUs from \(file.string)"
            if let rounded = cpu.quotaCPUsRoundedUp, Double(rounded) != value {
                text += " (a fraction: runtimes that round up see \(rounded), that round down see \(max(1, Int(value.rounded(.down)))))"
            }
            if !complete { text += "; some level was unreadable, the limit may be lower" }
            parts.append(text)
        case .unlimited: parts.append("no CFS quota at any level")
        case .noLimitFile(let reason): parts.append("no quota file: \(reason)")
        case .unknown(let reason): parts.append("quota unknown: \(reason)")
        }
        if let affinity = cpu.affinity { parts.append("affinity \(affinity)") }
        if let cpuset = cpu.cpuset { parts.append("cpuset \(cpuset)") }
        return parts.joined(separator: "; ")
    }

    static func effectiveText<V>(_ effective: EffectiveLimit<V>, _ format: (V) -> String) -> String {
        switch effective {
        case .limited(let value, let file, let complete):
            return "\(format(value)) from \(file.string)" + (complete ? "" : " (some level was unreadable: the limit may be lower)")
        case .unlimited: return "unlimited"
        case .noLimitFile(let reason): return "no limit file: \(reason)"
        case .unknown(let reason): return "unknown: \(reason)"
        }
    }

    static func table<V>(_ title: String, _ walk: LimitWalk<V>, _ style: TextStyle, _ format: (V) -> String) -> String {
        var out = "\n" + style.bold(title)
        switch walk.source {
        case .unresolved(let reason):
            return out + "\n  " + style.paint("UNRESOLVED", "1;31") + ": \(reason)\n"
        case .resolved(let version, let hierarchy, _, let mount, _):
            out += "  (cgroup v\(version), \(hierarchy.isUnified ? "cgroup2" : hierarchy.label), mount \(mount.mountPoint.string)"
            out += mount.root == "/" ? ")\n" : ", mount root \(mount.root.string))\n"
        }
        let rows = walk.levels.enumerated().map { index, level -> (String, String, String, Bool) in
            let file = level.files.map(\.string).joined(separator: " + ")
            return (level.cgroupPath.string, file, readingText(level.reading, format), index == walk.binding)
        }
        let levelWidth = min(40, max(5, rows.map(\.0.count).max() ?? 0))
        let fileWidth = min(90, max(4, rows.map(\.1.count).max() ?? 0))
        out += "  " + "level".padded(to: levelWidth) + "  " + "file".padded(to: fileWidth) + "  value\n"
        for row in rows {
            out += "  " + row.0.padded(to: levelWidth) + "  " + row.1.padded(to: fileWidth) + "  " + row.2
            out += row.3 ? "  " + style.paint("<- binds", "1") + "\n" : "\n"
        }
        for note in walk.notes { out += "  note: \(note)\n" }
        return out
    }

    static func readingText<V>(_ reading: Reading<V>, _ format: (V) -> String) -> String {
        switch reading {
        case .value(let value): format(value)
        case .unlimited: "unlimited"
        case .missing: "file missing"
        case .unreadable(let error): "unreadable: \(error.errnoName) (\(error.syscall))"
        case .unparseable(let error): "unparseable: \(error)"
        }
    }

    static func bytesText(_ bytes: UInt64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = -1
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit < 0 { return "\(bytes) bytes" }
        let rounded = (value * 100).rounded() / 100
        return "\(bytes) bytes (\(rounded) \(units[unit]))"
    }

    static func cores(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? "\(Int(rounded))" : "\(rounded)"
    }

    // MARK: JSON

    public static func renderJSON(_ limits: ProcessLimits) -> String {
        var effective: [(String, JSONValue)] = [
            ("cpu", cpuJSON(limits.effectiveCPU)),
            ("memory", effectiveJSON(limits.effectiveMemory) { [("bytes", .uint($0))] }),
            ("pids", effectiveJSON(limits.pidsMax) { [("max", .uint($0))] }),
        ]
        effective.append(("memoryHigh", limits.effectiveMemoryHigh.map { effectiveJSON($0) { [("bytes", .uint($0))] } } ?? .null))
        let bandwidth: (CPUBandwidth) -> [(String, JSONValue)] = {
            [("quotaMicros", .uint($0.quota)), ("periodMicros", .uint($0.period)), ("cores", .double($0.cores))]
        }
        let document: JSONValue = .object([
            ("schemaVersion", .int(Int64(schemaVersion))),
            ("pid", .int(Int64(limits.pid))),
            ("cgroupFile", .string(limits.cgroupFile)),
            ("mountInfoFile", .string(limits.mountInfoFile)),
            ("effective", .object(effective)),
            (
                "resources",
                .object([
                    ("cpu", walkJSON(limits.cpu, bandwidth)),
                    ("cpuset", walkJSON(limits.cpuset, cpuSetJSON)),
                    ("memory", walkJSON(limits.memory) { [("bytes", .uint($0))] }),
                    ("memoryHigh", limits.memoryHigh.map { walkJSON($0) { [("bytes", .uint($0))] } } ?? .null),
                    ("pids", walkJSON(limits.pids) { [("max", .uint($0))] }),
                ])
            ),
            (
                "hierarchicalMemoryLimit",
                limits.hierarchicalMemoryLimit.map { singleJSON($0) { [("bytes", .uint($0))] } } ?? .null
            ),
            ("affinity", singleJSON(limits.affinity, cpuSetJSON)),
            ("onlineCpus", singleJSON(limits.onlineCPUs, cpuSetJSON)),
            ("errors", .array(limits.errors.map { .string($0.description) })),
        ])
        return JSONReport.encode(document)
    }

    static func cpuSetJSON(_ set: CPUSet) -> [(String, JSONValue)] {
        [("cpus", .string(set.description)), ("count", .int(Int64(set.count)))]
    }

    static func cpuJSON(_ cpu: EffectiveCPU) -> JSONValue {
        var quotaFields: [(String, JSONValue)]
        switch cpu.quota {
        case .limited(let cores, let file, let complete):
            quotaFields = [
                ("state", .string("limited")), ("cores", .double(cores)), ("file", .string(file.string)),
                ("complete", .bool(complete)),
            ]
            if let b = cpu.bandwidth {
                quotaFields += [("quotaMicros", .uint(b.quota)), ("periodMicros", .uint(b.period))]
            }
            if let up = cpu.quotaCPUsRoundedUp { quotaFields.append(("roundedUp", .int(Int64(up)))) }
        case .unlimited: quotaFields = [("state", .string("unlimited"))]
        case .noLimitFile(let reason): quotaFields = [("state", .string("noLimitFile")), ("reason", .string(reason))]
        case .unknown(let reason): quotaFields = [("state", .string("unknown")), ("reason", .string(reason))]
        }
        let set: (CPUSet?) -> JSONValue = { $0.map { .object(cpuSetJSON($0)) } ?? .null }
        return .object([
            ("cpus", cpu.cpus.map { .int(Int64($0)) } ?? .null),
            ("limitedBy", cpu.limitedBy.map { .string($0.rawValue) } ?? .null),
            ("quota", .object(quotaFields)),
            ("cpuset", set(cpu.cpuset)),
            ("affinity", set(cpu.affinity)),
            ("online", set(cpu.online)),
        ])
    }

    static func effectiveJSON<V>(_ effective: EffectiveLimit<V>, _ value: (V) -> [(String, JSONValue)]) -> JSONValue {
        switch effective {
        case .limited(let v, let file, let complete):
            return .object([("state", .string("limited")), ("file", .string(file.string)), ("complete", .bool(complete))] + value(v))
        case .unlimited: return .object([("state", .string("unlimited"))])
        case .noLimitFile(let reason): return .object([("state", .string("noLimitFile")), ("reason", .string(reason))])
        case .unknown(let reason): return .object([("state", .string("unknown")), ("reason", .string(reason))])
        }
    }

    static func readingFields<V>(_ reading: Reading<V>, _ value: (V) -> [(String, JSONValue)]) -> [(String, JSONValue)] {
        switch reading {
        case .value(let v): return [("state", .string("value"))] + value(v)
        case .unlimited: return [("state", .string("unlimited"))]
        case .missing(let path): return [("state", .string("missing")), ("path", .string(path.string))]
        case .unreadable(let error):
            return [
                ("state", .string("unreadable")), ("path", .string(error.path)), ("syscall", .string(error.syscall)),
                ("errno", .string(error.errnoName)), ("message", .string(error.description)),
            ]
        case .unparseable(let error):
            return [
                ("state", .string("unparseable")), ("path", .string(error.file)), ("line", .int(Int64(error.line))),
                ("field", .string(error.field)), ("message", .string(error.description)),
            ]
        }
    }

    static func singleJSON<V>(_ single: SingleReading<V>, _ value: (V) -> [(String, JSONValue)]) -> JSONValue {
        .object(
            [("file", .string(single.file.string)), ("line", single.line.map { .int(Int64($0)) } ?? .null)]
                + readingFields(single.reading, value))
    }

    static func walkJSON<V>(_ walk: LimitWalk<V>, _ value: (V) -> [(String, JSONValue)]) -> JSONValue {
        var fields: [(String, JSONValue)] = [("controller", .string(walk.controller.rawValue)), ("file", .string(walk.fileName))]
        switch walk.source {
        case .unresolved(let reason):
            fields += [("unresolved", .string(reason)), ("version", .null)]
        case .resolved(let version, let hierarchy, let entry, let mount, let directory):
            fields += [
                ("unresolved", .null), ("version", .int(Int64(version))), ("hierarchyId", .int(Int64(hierarchy.id))),
                ("hierarchy", .string(hierarchy.label)), ("cgroupPath", .string(entry.path.string)),
                ("mountPoint", .string(mount.mountPoint.string)), ("mountRoot", .string(mount.root.string)),
                ("directory", .string(directory.string)),
            ]
        }
        fields.append(("binding", walk.binding.map { .int(Int64($0)) } ?? .null))
        fields.append(
            (
                "levels",
                .array(
                    walk.levels.enumerated().map { index, level in
                        .object(
                            [
                                ("cgroupPath", .string(level.cgroupPath.string)), ("directory", .string(level.directory.string)),
                                ("files", .array(level.files.map { .string($0.string) })), ("binds", .bool(index == walk.binding)),
                            ] + readingFields(level.reading, value))
                    })
            ))
        fields.append(("notes", .array(walk.notes.map { .string($0) })))
        return .object(fields)
    }
}

/// A JSON tree with keys in insertion order (the encoder sorts them): lets the limits document be
/// built as data instead of a dozen Encodable types.
indirect enum JSONValue: Encodable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case null

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let fields):
            var c = encoder.container(keyedBy: Key.self)
            for (key, value) in fields { try c.encode(value, forKey: Key(stringValue: key)) }
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .int(let i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case .uint(let u):
            var c = encoder.singleValueContainer()
            try c.encode(u)
        case .double(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        }
    }
}
