import CgroupFormats

/// OpenJDK 8u191..8u202 HotSpot, the first 8u container support (JDK-8146115 backport): controllers
/// matched by **substring** (`strstr`) on the whole mountinfo line and on the controller field of
/// /proc/self/cgroup, the last matching line winning. A named hierarchy `name=cpu_mirror` (or any
/// mount point containing "cpu") is taken for the cpu controller; it has no cpu.cfs_* files, the
/// reads fail (OSCONTAINER_ERROR) and the JVM sizes itself to the affinity/host CPU count.
///
/// Source: hotspot/src/os/linux/vm/osContainer_linux.cpp of jdk8u (changeset 9413, 2018-07-06), as
/// reconstructed in research/runtime-anchors.md §3 and research/consumers.md §1.5 from the JDK 10
/// era copy (desiyonan/OpenJDK8 @152905496e `OSContainer::init`): `if strstr(p,"memory") ... else
/// if strstr(p,"cpuset") ... else if strstr(p,"cpu,cpuacct")||strstr(p,"cpuacct,cpu") ... else if
/// strstr(p,"cpuacct") ... else if strstr(p,"cpu")`. CPU count formula F1 (shares count when no
/// quota, PreferContainerQuotaForCPUCount). Unverified against a binary: no JDK 8 here.
public struct HotSpot8u191: ConsumerModel {
    public init() {}
    public var id: String { "hotspot-8u191" }
    public var name: String { "OpenJDK HotSpot 8u191-8u202" }
    public var version: String { "jdk8u hotspot/src/os/linux/vm/osContainer_linux.cpp (JDK-8146115 backport, 8u191)" }
    public var verifiedAgainstBinary: Bool { false }

    struct Subsystem {
        var root: String
        var mount: String
        var path: String?
    }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(process)
        trace.files.append(contentsOf: ["/proc/self/mountinfo", "/proc/self/cgroup"])
        let affinity = HostFacts.affinity(process)
        var subsystems: [String: Subsystem] = [:]
        var lines: [String: String] = [:]
        for entry in process.mountInfo.entries where entry.fileSystemType == "cgroup" {
            // The whole line is searched: root, mount point, options, super options.
            let line = entry.text
            let target = Self.match(line)
            for name in target {
                subsystems[name] = Subsystem(root: entry.root.string, mount: entry.mountPoint.string)
                lines[name] = line
            }
        }
        for name in ["memory", "cpuset", "cpu", "cpuacct"] where subsystems[name] == nil {
            trace.note("Required cgroup subsystems not found (\(name)): no container support, host values used")
            return trace.view(self, cpuCount: affinity, memory: .unlimited, mount: nil)
        }
        if let line = lines["cpu"] { trace.note("cpu subsystem from mountinfo line \"\(line)\"") }
        for entry in process.cgroups.entries {
            for name in Self.match(entry.controllerField) where subsystems[name] != nil {
                let root = subsystems[name]?.root ?? "/"
                let mount = subsystems[name]?.mount ?? ""
                subsystems[name]?.path = HotSpotCgroups.v1Path(
                    mount: mount, root: root, cgroupPath: entry.path.string, mapping: .prefixPointerBug, exists: { _ in false })
                if name == "cpu" { trace.note("cpu path from /proc/self/cgroup line \"\(entry.text)\"") }
            }
        }
        let cpu = subsystems["cpu"]
        var quota: Int64 = -2
        var period: Int64 = -2
        var shares: Int64 = -2
        if let directory = cpu?.path {
            quota = trace.firstLine(directory + "/cpu.cfs_quota_us").flatMap { ConsumerText.scanSigned($0) } ?? -2
            period = trace.firstLine(directory + "/cpu.cfs_period_us").flatMap { ConsumerText.scanSigned($0) } ?? -2
            shares = trace.firstLine(directory + "/cpu.shares").flatMap { ConsumerText.scanSigned($0) } ?? -2
            if shares == 1024 { shares = -1 }
        }
        trace.note("CPU Quota is: \(quota); CPU Period is: \(period); CPU Shares is: \(shares)")
        // F1 (JDK 10..18, 8u): quota first (PreferContainerQuotaForCPUCount=true), else shares.
        let quotaCount = quota > -1 && period > 0 ? QuotaMath.ceilFloat(quota, period) : 0
        let shareCount = shares > -1 ? QuotaMath.ceilFloat(shares, 1024) : 0
        var count = affinity
        let limit = quotaCount != 0 ? quotaCount : shareCount
        if limit != 0 { count = affinity.map { min($0, limit) } ?? limit }
        if quota == -2 { trace.note("cpu files missing under the chosen cpu mount: quota ignored, affinity/host CPU count used") }
        var memory = MemoryView.unlimited
        if let directory = subsystems["memory"]?.path,
            let line = trace.firstLine(directory + "/memory.limit_in_bytes"), let value = ConsumerText.scanSigned(line)
        {
            // 8u: unlimited is LONG_MAX rounded down to the page size (the kernel's v1 "no limit").
            let unlimited: Int64 = (Int64.max / 4096) * 4096
            memory = value >= unlimited || value < 0 ? .unlimited : .bytes(UInt64(value))
        }
        return trace.view(self, cpuCount: count, memory: memory, mount: cpu?.mount)
    }

    /// The strstr chain: which subsystems a line (or controller field) is filed under.
    static func match(_ text: String) -> [String] {
        if text.contains("memory") { return ["memory"] }
        if text.contains("cpuset") { return ["cpuset"] }
        if text.contains("cpu,cpuacct") || text.contains("cpuacct,cpu") { return ["cpu", "cpuacct"] }
        if text.contains("cpuacct") { return ["cpuacct"] }
        if text.contains("cpu") { return ["cpu"] }
        return []
    }
}
