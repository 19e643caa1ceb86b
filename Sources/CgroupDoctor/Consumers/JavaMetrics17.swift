import CgroupFormats

/// The Java-side container metrics of JDK 17 (`jdk.internal.platform`), which `java
/// -XshowSettings:system`, `OperatingSystemMXBean` and JFR print. A separate parser from HotSpot's,
/// so the two can disagree about the same process.
///
/// Source: src/java.base/linux/classes/jdk/internal/platform/CgroupSubsystemFactory.java (JDK 17
/// line, dragonwell17 @374bf515 copy): v2 iff every relevant controller (cpu, cpuacct, cpuset,
/// memory, blkio, pids) has hierarchy id 0 in /proc/cgroups; a v1 mount is matched by the
/// **basename of its mount point** split on ',' (not by its super options); duplicates keep the one
/// under /sys/fs/cgroup. cgroupv1/CgroupV1SubsystemController.java: a cgroup path below the mount
/// root becomes mount + the rest of the path (observed on 17.0.15, unlike HotSpot, which gets NULL).
/// v1 memory: memory.limit_in_bytes above 0x7FFFFFFFFF000000 is unlimited (a constant, not the
/// host's memory as in HotSpot), then hierarchical_memory_limit; whatever limit results is then
/// compared with physical memory by `CgroupMetrics.getMemoryLimit` (JDK-8292083): at or above it
/// prints as Unlimited. Failed reads print as -1.
///
/// `cpuCount` is the count its own CPU Quota/CPU Period imply (ceil, capped by affinity); the
/// "Effective CPU Count" line of -XshowSettings:system comes from HotSpot instead. Verified against
/// `java -XshowSettings:system` 17.0.15 (CPU Quota, CPU Period, Memory Limit lines) in v1 layouts
/// (LanguageRuntimeGroundTruthTests) and staged v2 leaf/parent layouts (CgroupV2GroundTruthTests).
public struct JavaMetrics17: ConsumerModel {
    public init() {}
    public var id: String { "java-metrics-17" }
    public var name: String { "OpenJDK 17 Java-side metrics (-XshowSettings:system)" }
    public var version: String { "openjdk/jdk17u src/java.base/linux/classes/jdk/internal/platform/CgroupSubsystemFactory.java, CgroupMetrics.java, cgroupv1/CgroupV1SubsystemController.java" }
    public var verifiedAgainstBinary: Bool { true }

    static let relevant = ["memory", "cpu", "cpuacct", "cpuset", "pids", "blkio"]
    static let unlimitedMin: UInt64 = 0x7FFF_FFFF_FF00_0000

    struct Info {
        var hierarchyID = 0
        var enabled = false
        var mount: String?
        var root: String?
        var cgroupPath: String?
    }

    /// The values -XshowSettings:system prints: CPU Quota, CPU Period (-1 when unset or unreadable)
    /// and the memory limit.
    public struct Metrics: Sendable, Hashable {
        public var provider: String
        public var cpuQuota: Int64
        public var cpuPeriod: Int64
        public var memory: MemoryView
    }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(process)
        let (metrics, mount) = compute(&trace)
        let affinity = HostFacts.affinity(process)
        guard let metrics else {
            trace.note("No metrics available for this platform")
            return trace.view(self, cpuCount: nil, memory: .notComputed, mount: nil)
        }
        trace.note("Provider: \(metrics.provider); CPU Period: \(metrics.cpuPeriod); CPU Quota: \(metrics.cpuQuota)")
        var count = affinity
        if metrics.cpuQuota > 0 && metrics.cpuPeriod > 0 {
            let q = QuotaMath.ceilDouble(Double(metrics.cpuQuota), Double(metrics.cpuPeriod))
            count = affinity.map { min($0, q) } ?? q
        }
        return trace.view(self, cpuCount: count, memory: metrics.memory, mount: mount)
    }

    /// The metrics, or nil when the Java side has none (no relevant mount, mixed v1/v2 controllers).
    public func metrics(_ process: ConsumerInput) -> Metrics? {
        var trace = ConsumerTrace(process)
        return compute(&trace).0
    }

    func compute(_ trace: inout ConsumerTrace) -> (Metrics?, String?) {
        let process = trace.input
        trace.files.append(contentsOf: ["/proc/cgroups", "/proc/self/mountinfo", "/proc/self/cgroup"])
        guard let controllers = process.controllers else { return (nil, nil) }
        var infos: [String: Info] = [:]
        for entry in controllers.entries where Self.relevant.contains(entry.controller.rawValue) {
            infos[entry.controller.rawValue] = Info(hierarchyID: entry.hierarchyID, enabled: entry.enabled)
        }
        let isV2 = infos.values.allSatisfy { $0.hierarchyID == 0 }
        let anyV1 = infos.values.contains { $0.hierarchyID != 0 }
        let anyV2 = infos.values.contains { $0.hierarchyID == 0 }
        let anyEnabled = infos.values.contains { $0.enabled }
        func setMount(_ name: String, _ entry: MountEntry) {
            if let existing = infos[name]?.mount {
                if !existing.hasPrefix("/sys/fs/cgroup") {
                    infos[name]?.mount = entry.mountPoint.string
                    infos[name]?.root = entry.root.string
                }
            } else {
                infos[name]?.mount = entry.mountPoint.string
                infos[name]?.root = entry.root.string
            }
        }
        var anyMounted = false
        for entry in process.mountInfo.entries {
            if entry.fileSystemType == "cgroup" {
                let base = entry.mountPoint.lastComponent?.string ?? ""
                for name in base.split(separator: ",").map(String.init) where infos[name] != nil {
                    setMount(name, entry)
                    anyMounted = true
                }
            } else if entry.fileSystemType == "cgroup2" {
                if isV2 { for name in infos.keys { setMount(name, entry) } }
                anyMounted = true
            }
        }
        guard anyMounted, anyEnabled else { return (nil, nil) }
        if anyV1 && anyV2 {
            trace.note("Mixed cgroupv1 and cgroupv2 not supported. Metrics disabled.")
            return (nil, nil)
        }
        for entry in process.cgroups.entries {
            if isV2 {
                guard entry.controllers.isEmpty && entry.name == nil else { continue }
                for name in infos.keys { infos[name]?.cgroupPath = entry.path.string }
            } else {
                for token in entry.controllers.map(\.rawValue) where infos[token] != nil {
                    infos[token]?.cgroupPath = entry.path.string
                }
            }
        }
        func directory(_ name: String) -> String? {
            guard let info = infos[name], let mount = info.mount, let root = info.root, let path = info.cgroupPath else { return nil }
            if isV2 { return mount + (path == "/" ? "" : path) }
            if root == "/" { return mount + (path == "/" ? "" : path) }
            if root == path { return mount }
            if path.hasPrefix(root), path.count > root.count { return mount + path.dropFirst(root.count) }
            return nil
        }
        func number(_ path: String?) -> Int64 {
            guard let path, let line = trace.firstLine(path) else { return -1 }
            if line == "max" { return -1 }
            return ConsumerText.scanSigned(line) ?? -1
        }
        var quota: Int64 = -1
        var period: Int64 = -1
        var memory = MemoryView.unlimited
        let cpuDirectory = directory("cpu")
        if isV2 {
            if let d = cpuDirectory, let line = trace.firstLine(d + "/cpu.max") {
                let f = line.split(separator: " ")
                if f.count >= 2 {
                    quota = f[0] == "max" ? -1 : (ConsumerText.scanSigned(f[0]) ?? -1)
                    period = ConsumerText.scanSigned(f[1]) ?? -1
                }
            }
            let m = number(directory("memory").map { $0 + "/memory.max" })
            memory = m < 0 ? .unlimited : .bytes(UInt64(m))
        } else {
            quota = number(cpuDirectory.map { $0 + "/cpu.cfs_quota_us" })
            period = number(cpuDirectory.map { $0 + "/cpu.cfs_period_us" })
            if let d = directory("memory"), let line = trace.firstLine(d + "/memory.limit_in_bytes"),
                let value = ConsumerText.scanSigned(line)
            {
                let limit = UInt64(bitPattern: value)
                if limit > Self.unlimitedMin || value < 0 {
                    memory = .unlimited
                    let hierarchical = trace.firstLine(d + "/memory.use_hierarchy").flatMap { ConsumerText.scanSigned($0) } ?? 0
                    if hierarchical > 0, let stat = trace.read(d + "/memory.stat"),
                        let h = ConsumerText.keyedValue(stat, key: "hierarchical_memory_limit"), h <= Self.unlimitedMin
                    {
                        memory = .bytes(h)
                    }
                } else {
                    memory = .bytes(limit)
                }
            }
        }
        // CgroupMetrics.getMemoryLimit (JDK-8292083, in 17.0.6+): a limit at or above the host's
        // physical memory (getTotalMemorySize0 = _SC_PHYS_PAGES * page size = MemTotal) is reported as
        // unlimited, for v1 and v2 alike. Observed on 17.0.15 with a v2 memory.max of 1 TiB on a 24 GiB
        // host: "Memory Limit: Unlimited" (CgroupV2GroundTruthTests, layout h).
        if case .bytes(let bytes) = memory, let physical = HostFacts.physicalMemory(process), bytes >= physical {
            trace.note("memory limit \(bytes) >= physical memory \(physical): reported as unlimited")
            memory = .unlimited
        }
        if cpuDirectory == nil { trace.note("cpu controller path unresolved: CPU Quota/Period print -1") }
        return (
            Metrics(provider: isV2 ? "cgroupv2" : "cgroupv1", cpuQuota: quota, cpuPeriod: period, memory: memory),
            infos["cpu"]?.mount
        )
    }
}
