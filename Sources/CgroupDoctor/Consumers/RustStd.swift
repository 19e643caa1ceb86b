import CgroupFormats

/// Rust `std::thread::available_parallelism()` (Rust 1.95 here; cgroup v2 since 1.61, v1 since 1.64).
///
/// Source: rust-lang/rust library/std/src/sys/thread/unix.rs @00721420 (`mod cgroups`): /proc/self/cgroup
/// is folded line by line — an empty controller field is v2, a controller list with the exact token
/// "cpu" is v1 and always wins over v2; the path loses its leading "/". v2: only under the hard-coded
/// /sys/fs/cgroup, and only if `<dir>/cgroup.controllers` exists; every level up to /sys/fs/cgroup:
/// cpu.max "L P" as integers, quota = min(L / P) (integer division, "max" skipped). v1: the first of
/// /sys/fs/cgroup/cpu, /sys/fs/cgroup/cpu,cpuacct and the first `cgroup` mount with super option "cpu"
/// whose root is a prefix of the path, for which `mount/path` EXISTS (so a non-cpu hierarchy mounted at
/// /sys/fs/cgroup/cpu is taken); every level up to that mount: cpu.cfs_quota_us / cpu.cfs_period_us
/// (-1 does not parse as usize and is skipped). Result = min(affinity count, max(quota, 1)).
/// No memory limit. Verified against a Rust 1.95 program here (LanguageRuntimeGroundTruthTests; v2 leaf
/// and parent cpu.max in CgroupV2GroundTruthTests).
public struct RustStd: ConsumerModel {
    public init() {}
    public var id: String { "rust-std" }
    public var name: String { "Rust std available_parallelism (1.95)" }
    public var version: String { "rust-lang/rust 1.95 library/std/src/sys/thread/unix.rs mod cgroups" }
    public var verifiedAgainstBinary: Bool { true }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(process)
        trace.files.append("/proc/self/cgroup")
        let affinity = HostFacts.affinity(process)
        var found: (path: String, v1: Bool)?
        for entry in process.cgroups.entries {
            let isV2 = entry.controllers.isEmpty && entry.name == nil
            let isV1 = entry.controllers.contains(.cpu)
            guard isV2 || isV1 else { continue }
            if found != nil && isV2 { continue }
            found = (String(entry.path.string.dropFirst()), isV1)
        }
        var quota = Int.max
        var mount: String?
        if let found {
            if found.v1 {
                (quota, mount) = quotaV1(&trace, group: found.path)
            } else {
                mount = "/sys/fs/cgroup"
                quota = quotaV2(&trace, group: found.path)
            }
        }
        let bounded = max(quota, 1)
        trace.note(quota == Int.max ? "no cgroup quota found" : "cgroup quota \(quota) CPUs (integer division, min over levels)")
        let count = affinity.map { min($0, bounded) } ?? (quota == Int.max ? nil : bounded)
        return trace.view(self, cpuCount: count, memory: .notComputed, mount: mount)
    }

    func quotaV2(_ trace: inout ConsumerTrace, group: String) -> Int {
        let base = group.isEmpty ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + group
        guard trace.read(base + "/cgroup.controllers") != nil else {
            trace.note("\(base)/cgroup.controllers missing: not treated as cgroup v2")
            return Int.max
        }
        var quota = Int.max
        var components = group.split(separator: "/").map(String.init)
        while true {
            let directory = components.isEmpty ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + components.joined(separator: "/")
            if let line = trace.firstLine(directory + "/cpu.max") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: false)
                if fields.count >= 2, let limit = UInt64(fields[0]), let period = UInt64(fields[1]), period > 0 {
                    quota = min(quota, Int(limit / period))
                }
            }
            if components.isEmpty { break }
            components.removeLast()
        }
        return quota
    }

    func quotaV1(_ trace: inout ConsumerTrace, group: String) -> (Int, String?) {
        var candidates: [(String, String)] = [("/sys/fs/cgroup/cpu", group), ("/sys/fs/cgroup/cpu,cpuacct", group)]
        // find_mountpoint: first cgroup mount with the "cpu" option whose root contains the path.
        let groupComponents = group.split(separator: "/").map(String.init)
        for entry in trace.input.mountInfo.entries where entry.fileSystemType == "cgroup" && entry.superOptions.contains("cpu") {
            let rootComponents = entry.root.string.split(separator: "/").map(String.init)
            guard groupComponents.starts(with: rootComponents) else { continue }
            candidates.append((entry.mountPoint.string, groupComponents.dropFirst(rootComponents.count).joined(separator: "/")))
            break
        }
        for (mount, relative) in candidates {
            let start = relative.isEmpty ? mount : mount + "/" + relative
            guard trace.directoryExists(start) else {
                trace.note("\(start) does not exist: next candidate")
                continue
            }
            trace.note("v1 cpu directory \(start)")
            var quota = Int.max
            var components = relative.split(separator: "/").map(String.init)
            while true {
                let directory = components.isEmpty ? mount : mount + "/" + components.joined(separator: "/")
                let limit = trace.read(directory + "/cpu.cfs_quota_us").flatMap { UInt64(ConsumerText.string($0).trimmingSpaces) }
                let period = trace.read(directory + "/cpu.cfs_period_us").flatMap { UInt64(ConsumerText.string($0).trimmingSpaces) }
                if let limit, let period, period > 0 { quota = min(quota, Int(limit / period)) }
                if components.isEmpty { break }
                components.removeLast()
            }
            return (quota, mount)
        }
        return (Int.max, nil)
    }
}
