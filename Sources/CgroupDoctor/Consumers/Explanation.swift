import CgroupFormats
import SystemPackage

/// `cgdoctor explain PID`: every selected consumer's view of one process, the effective limits the
/// kernel enforces (``LimitsReader``), and a verdict naming where they disagree.
public struct Explanation: Sendable {
    public var pid: Int32
    public var views: [ConsumerView]
    /// The effective limits, read in the process's own view; nil with ``limitsError`` when unreadable.
    public var limits: ProcessLimits?
    public var limitsError: String?
    /// One line per disagreement (consumer vs consumer, consumer vs effective limit, consumer error).
    public var verdict: [String]

    public var agrees: Bool { verdict.isEmpty }

    /// The CPU count the kernel's limits amount to (min(ceil(quota), affinity)), if known.
    public var effectiveCPUs: Int? { limits?.effectiveCPU.cpus }

    /// The effective memory limit as a ``MemoryView`` (unknown -> nil).
    public var effectiveMemory: MemoryView? {
        switch limits?.effectiveMemory {
        case .limited(let bytes, _, _): .bytes(bytes)
        case .unlimited, .noLimitFile: .unlimited
        case .unknown, nil: nil
        }
    }
}

public enum Explainer {
    /// Reads the process once and runs `consumers` (default: the whole catalogue) over it.
    public static func explain(
        pid: Int32, sysroot: Sysroot, runtimePID: Int32 = 1, consumers: [any ConsumerModel] = Consumers.all
    ) throws(SystemError) -> Explanation {
        let input = try ConsumerInputReader(sysroot: sysroot, runtimePID: runtimePID).input(for: pid)
        let views = consumers.map { $0.predict(input) }
        var limits: ProcessLimits?
        var limitsError: String?
        do {
            // The process's own view: its mountinfo, through its root (see ConsumerInputReader).
            limits = try LimitsReader(sysroot: input.sysroot, referencePID: pid).limits(of: pid)
        } catch {
            limitsError = "\(error)"
        }
        var explanation = Explanation(pid: pid, views: views, limits: limits, limitsError: limitsError, verdict: [])
        explanation.verdict = verdict(explanation)
        return explanation
    }

    static func describe(_ memory: MemoryView) -> String {
        switch memory {
        case .unlimited: "unlimited"
        case .bytes(let b): "\(b) bytes"
        case .notComputed: "not computed"
        }
    }

    /// Groups consumers by answer and names every one that differs from the effective limit.
    public static func verdict(_ explanation: Explanation) -> [String] {
        var lines: [String] = []
        let views = explanation.views
        for view in views {
            if let error = view.error { lines.append("\(view.consumer) fails: \(error)") }
        }
        let counted = views.filter { $0.cpuCount != nil && $0.error == nil }
        let counts = Dictionary(grouping: counted, by: { $0.cpuCount ?? 0 })
        if counts.count > 1 {
            let groups = counts.keys.sorted().map { count in
                "\(count) (\(counts[count, default: []].map(\.consumer).joined(separator: ", ")))"
            }
            lines.append("consumers disagree on the CPU count: " + groups.joined(separator: " vs "))
        }
        if let effective = explanation.effectiveCPUs {
            let off = counted.filter { $0.cpuCount != effective }
            if !off.isEmpty {
                lines.append(
                    "effective CPU limit is \(effective); differs: "
                        + off.map { "\($0.consumer) \($0.cpuCount.map(String.init) ?? "?")" }.joined(separator: ", "))
            }
        }
        let memoryViews = views.filter { $0.memory != .notComputed && $0.error == nil }
        let memories = Dictionary(grouping: memoryViews, by: \.memory)
        if memories.count > 1 {
            let groups = memories.keys.sorted { describe($0) < describe($1) }.map { memory in
                "\(describe(memory)) (\(memories[memory, default: []].map(\.consumer).joined(separator: ", ")))"
            }
            lines.append("consumers disagree on the memory limit: " + groups.joined(separator: " vs "))
        }
        if let effective = explanation.effectiveMemory {
            let off = memoryViews.filter { $0.memory != effective }
            if !off.isEmpty {
                lines.append(
                    "effective memory limit is \(describe(effective)); differs: "
                        + off.map { "\($0.consumer) \(describe($0.memory))" }.joined(separator: ", "))
            }
        }
        return lines
    }
}
