import CgroupDoctor
import CgroupFormats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Renders ``Explanation`` (`cgdoctor explain`): a side-by-side table, per-consumer files and notes,
/// and the verdict. JSON: one object per consumer with explicit keys.
public enum ExplainReport {
    public static func render(_ explanation: Explanation, style: TextStyle = TextStyle()) -> String {
        var out = style.bold("cgdoctor explain: pid \(explanation.pid)") + "\n"
        out += "effective limits: cpus \(explanation.effectiveCPUs.map(String.init) ?? "unknown"), memory "
            + (explanation.effectiveMemory.map(memoryText) ?? "unknown")
            + (explanation.limitsError.map { " (limits unreadable: \($0))" } ?? "") + "\n\n"
        let header = ["consumer", "cpus", "memory", "mount", "error"]
        let rows = explanation.views.map { view in
            [
                view.consumer + (view.verifiedAgainstBinary ? "" : "*"), view.cpuCount.map(String.init) ?? "-",
                memoryText(view.memory), view.mount ?? "-", view.error ?? "",
            ]
        }
        out += table([header] + rows)
        out += "(* = model not verified against a binary on this machine)\n"
        if explanation.agrees {
            out += "\n" + style.bold("verdict: all consumers agree with each other and with the effective limits") + "\n"
        } else {
            out += "\n" + style.bold("verdict: consumers disagree") + "\n"
            for line in explanation.verdict { out += "  - \(line)\n" }
        }
        for view in explanation.views {
            out += "\n" + style.bold("\(view.consumer)") + ": \(view.name)\n"
            out += "  follows: \(view.version)\n"
            if !view.files.isEmpty { out += "  reads: \(view.files.joined(separator: ", "))\n" }
            for note in view.notes { out += "  - \(note)\n" }
        }
        return out
    }

    static func memoryText(_ memory: MemoryView) -> String {
        switch memory {
        case .unlimited: "unlimited"
        case .bytes(let b): "\(b)"
        case .notComputed: "-"
        }
    }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    public static func renderJSON(_ explanation: Explanation) -> String {
        JSONReport.encode(ExplainDocument(explanation: explanation))
    }
}

struct ExplainDocument: Encodable {
    let explanation: Explanation

    enum Keys: String, CodingKey { case schemaVersion, pid, effective, consumers, verdict }
    enum EffectiveKeys: String, CodingKey { case cpuCount, memoryLimitBytes, memory, error }
    enum VerdictKeys: String, CodingKey { case agree, lines }
    enum ConsumerKeys: String, CodingKey {
        case consumer, name, version, verifiedAgainstBinary, cpuCount, memoryLimitBytes, memory, mount, files, error, notes
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(JSONReport.schemaVersion, forKey: .schemaVersion)
        try c.encode(explanation.pid, forKey: .pid)
        var effective = c.nestedContainer(keyedBy: EffectiveKeys.self, forKey: .effective)
        try effective.encode(explanation.effectiveCPUs, forKey: .cpuCount)
        try encodeMemory(explanation.effectiveMemory, bytesKey: .memoryLimitBytes, statusKey: .memory, into: &effective)
        try effective.encode(explanation.limitsError, forKey: .error)
        var consumers = c.nestedUnkeyedContainer(forKey: .consumers)
        for view in explanation.views {
            var o = consumers.nestedContainer(keyedBy: ConsumerKeys.self)
            try o.encode(view.consumer, forKey: .consumer)
            try o.encode(view.name, forKey: .name)
            try o.encode(view.version, forKey: .version)
            try o.encode(view.verifiedAgainstBinary, forKey: .verifiedAgainstBinary)
            try o.encode(view.cpuCount, forKey: .cpuCount)
            try encodeMemory(view.memory, bytesKey: .memoryLimitBytes, statusKey: .memory, into: &o)
            try o.encode(view.mount, forKey: .mount)
            try o.encode(view.files, forKey: .files)
            try o.encode(view.error, forKey: .error)
            try o.encode(view.notes, forKey: .notes)
        }
        var verdict = c.nestedContainer(keyedBy: VerdictKeys.self, forKey: .verdict)
        try verdict.encode(explanation.agrees, forKey: .agree)
        try verdict.encode(explanation.verdict, forKey: .lines)
    }

    /// `memoryLimitBytes` is a number only for a limit; `memory` says which of "limited",
    /// "unlimited", "not-computed" (or "unknown") it is, so null is never ambiguous.
    func encodeMemory<K: CodingKey>(
        _ memory: MemoryView?, bytesKey: K, statusKey: K, into container: inout KeyedEncodingContainer<K>
    ) throws {
        switch memory {
        case .bytes(let b):
            try container.encode(b, forKey: bytesKey)
            try container.encode("limited", forKey: statusKey)
        case .unlimited:
            try container.encodeNil(forKey: bytesKey)
            try container.encode("unlimited", forKey: statusKey)
        case .notComputed:
            try container.encodeNil(forKey: bytesKey)
            try container.encode("not-computed", forKey: statusKey)
        case nil:
            try container.encodeNil(forKey: bytesKey)
            try container.encode("unknown", forKey: statusKey)
        }
    }
}
