import CgroupFormats

/// The Go 1.25 runtime's default GOMAXPROCS (cgroup-aware since Go 1.25, GODEBUG containermaxprocs).
///
/// Source: golang/go src/internal/runtime/cgroup/cgroup_linux.go (@090372e8, @49c1da47:
/// `parseCPUMount` takes the FIRST v1 `cgroup` mount whose super options hold the token "cpu", else the
/// LAST `cgroup2` mount, and ignores the mount root; `parseCPURelativePath` takes the path of a v1 line
/// listing "cpu", which beats the `0::` line) and src/runtime/cgroup_linux.go @2ad4c952
/// (`adjustCgroupGOMAXPROCS`: GOMAXPROCS = min(affinity CPUs, max(ceil(quota/period), 2)); only the leaf
/// is read; an unreadable file means no limit). Control files must end with a newline
/// (`parseV1Number`/`parseV2Limit`). No memory limit is computed.
///
/// Unverified against a binary: Debian bookworm's golang-go is 1.19 (not cgroup-aware). Checked
/// against the upstream test tables (fixtures/consumers/go-runtime).
public struct GoRuntime125: ConsumerModel {
    public init() {}
    public var id: String { "go-1.25" }
    public var name: String { "Go 1.25 runtime (default GOMAXPROCS)" }
    public var version: String { "golang/go go1.25 src/internal/runtime/cgroup/cgroup_linux.go, src/runtime/cgroup_linux.go" }
    public var verifiedAgainstBinary: Bool { false }

    public enum CgroupVersion: String, Sendable { case v1, v2 }

    /// `parseCPUMount`: the mount point the runtime reads CPU files under; nil is ErrNoCgroup.
    public static func cpuMount(_ mountInfo: MountInfo) -> String? {
        var v2: String?
        for entry in mountInfo.entries {
            if entry.fileSystemType == "cgroup2" { v2 = entry.mountPoint.string }
            if entry.fileSystemType == "cgroup" && entry.superOptions.contains("cpu") { return entry.mountPoint.string }
        }
        return v2
    }

    /// `parseCPURelativePath`: the cgroup path and version; nil when there is none.
    public static func relativePath(_ cgroups: ProcessCgroups) -> (path: String, version: CgroupVersion)? {
        var v2: String?
        for entry in cgroups.entries {
            if entry.controllers.contains(.cpu) { return (entry.path.string, .v1) }
            if entry.hierarchyID == 0 && entry.controllers.isEmpty && entry.name == nil { v2 = entry.path.string }
        }
        return v2.map { ($0, .v2) }
    }

    /// `parseV1Number`: decimal with a trailing newline, nothing else.
    public static func parseV1Number(_ bytes: [UInt8]) -> Int64? {
        guard bytes.last == 0x0A else { return nil }
        return ConsumerText.strictSigned(String(decoding: bytes.dropLast(), as: UTF8.self))
    }

    public enum V2Limit: Sendable, Hashable {
        case unlimited
        case limit(Double)
    }

    /// `parseV2Limit`: "max P\n" or "Q P\n".
    public static func parseV2Limit(_ bytes: [UInt8]) -> V2Limit? {
        guard bytes.last == 0x0A else { return nil }
        let fields = String(decoding: bytes.dropLast(), as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 2, let period = ConsumerText.strictSigned(fields[1]), period > 0 else { return nil }
        if fields[0] == "max" { return .unlimited }
        guard let quota = ConsumerText.strictSigned(fields[0]) else { return nil }
        return .limit(Double(quota) / Double(period))
    }

    /// `adjustCgroupGOMAXPROCS`.
    public static func gomaxprocs(affinity: Int, limit: Double?) -> Int {
        guard let limit else { return affinity }
        return min(affinity, max(Int(limit.rounded(.up)), 2))
    }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(process)
        trace.files.append(contentsOf: ["/proc/self/mountinfo", "/proc/self/cgroup"])
        let affinity = HostFacts.affinity(process)
        guard let mount = Self.cpuMount(process.mountInfo) else {
            trace.note("no cgroup cpu mount (ErrNoCgroup): GOMAXPROCS = affinity count")
            return trace.view(self, cpuCount: affinity, memory: .notComputed, mount: nil)
        }
        guard let (path, version) = Self.relativePath(process.cgroups) else {
            trace.note("no cpu or 0:: line in /proc/self/cgroup: GOMAXPROCS = affinity count")
            return trace.view(self, cpuCount: affinity, memory: .notComputed, mount: mount)
        }
        // The mount root is ignored (golang/go#76390): mount + path, as the runtime concatenates.
        let directory = mount + path
        trace.note("cgroup \(version.rawValue) directory \(directory) (mount root ignored)")
        var limit: Double?
        switch version {
        case .v1:
            guard let q = trace.read(directory + "/cpu.cfs_quota_us"), let p = trace.read(directory + "/cpu.cfs_period_us") else {
                trace.note("open failed: limit ignored")
                return trace.view(self, cpuCount: affinity, memory: .notComputed, mount: mount)
            }
            if let quota = Self.parseV1Number(q), let period = Self.parseV1Number(p), quota >= 0, period > 0 {
                limit = Double(quota) / Double(period)
            }
        case .v2:
            guard let bytes = trace.read(directory + "/cpu.max") else {
                trace.note("open failed: limit ignored")
                return trace.view(self, cpuCount: affinity, memory: .notComputed, mount: mount)
            }
            if case .limit(let l) = Self.parseV2Limit(bytes) { limit = l }
        }
        trace.note(limit.map { "CPU limit \($0): GOMAXPROCS = min(affinity, max(ceil(limit), 2))" } ?? "no CPU limit")
        return trace.view(self, cpuCount: affinity.map { Self.gomaxprocs(affinity: $0, limit: limit) }, memory: .notComputed, mount: mount)
    }
}
