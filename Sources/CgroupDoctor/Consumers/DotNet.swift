import CgroupFormats

/// .NET's cgroup reading, shared by ``DotNet8`` and ``DotNet9``: `Environment.ProcessorCount`
/// (coreclr PAL, src/coreclr/pal/src/misc/cgroup.cpp @04c0bdd0) and the GC's memory limit
/// (src/coreclr/gc/unix/cgroup.cpp @0204545b).
///
/// Version: statfs(/sys/fs/cgroup) is cgroup2 -> v2, else v1 (decided here from the process's
/// mountinfo). `FindHierarchyMount`: every mountinfo line whose filesystem type starts with "cgroup"
/// (cgroup AND cgroup2) and, on v1, whose super options hold the controller token; there is no break,
/// so the LAST match wins. `FindCGroupPathForSubsystem`: the first /proc/self/cgroup line with the
/// token (v1) or the first `0::` line (v2). Directory = mount + the cgroup path minus the mount root
/// when the root is a string prefix of it. CPU: quota ≤ 0 or "max" is no limit; count =
/// quota ≤ period ? 1 : (uint)(quota/period + 0.999999999) from the leaf only; ProcessorCount =
/// min(affinity, count). Memory: limits above 0x7FFFFFFF00000000 are unlimited.
enum DotNetEngine {
    static func hierarchyMount(_ input: ConsumerInput, v2: Bool, token: String) -> MountEntry? {
        var found: MountEntry?
        for entry in input.mountInfo.entries where entry.fileSystemType.hasPrefix("cgroup") {
            if v2 || entry.superOptions.contains(token) { found = entry }
        }
        return found
    }

    static func cgroupPath(_ input: ConsumerInput, v2: Bool, token: String) -> String? {
        if v2 { return input.cgroups.entries.first { $0.hierarchyID == 0 && $0.controllers.isEmpty && $0.name == nil }?.path.string }
        return input.cgroups.entries.first { $0.controllers.contains(Controller(token)) }?.path.string
    }

    static func directory(_ mount: MountEntry, _ path: String) -> String {
        let root = mount.root.string
        if root != "/" && path.hasPrefix(root) { return mount.mountPoint.string + path.dropFirst(root.count) }
        return mount.mountPoint.string + path
    }

    static func predict(_ model: some ConsumerModel, memoryWalk: Bool, input: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(input)
        trace.files.append(contentsOf: ["/proc/self/mountinfo", "/proc/self/cgroup"])
        let v2 = HostFacts.sysFsCgroupIsCgroup2(input)
        trace.note("statfs(/sys/fs/cgroup): \(v2 ? "cgroup2 -> v2" : "not cgroup2 -> v1") (from mountinfo)")
        let affinity = HostFacts.affinity(input)
        var count = affinity
        let cpuMount = hierarchyMount(input, v2: v2, token: "cpu")
        if let mount = cpuMount, let path = cgroupPath(input, v2: v2, token: "cpu") {
            let dir = directory(mount, path)
            var quota: Int64?
            var period: Int64?
            if v2 {
                if let line = trace.firstLine(dir + "/cpu.max") {
                    let f = line.split(separator: " ")
                    if f.count == 2, f[0] != "max" {
                        quota = ConsumerText.scanSigned(f[0])
                        period = ConsumerText.scanSigned(f[1])
                    }
                }
            } else {
                quota = trace.firstLine(dir + "/cpu.cfs_quota_us").flatMap { ConsumerText.scanSigned($0) }
                period = trace.firstLine(dir + "/cpu.cfs_period_us").flatMap { ConsumerText.scanSigned($0) }
            }
            if let quota, let period, quota > 0, period > 0 {
                let n = quota <= period ? 1 : Int(Double(quota) / Double(period) + 0.999999999)
                trace.note("CPU limit \(n) from \(dir)")
                count = affinity.map { min($0, n) } ?? n
            }
        } else {
            trace.note("no cgroup cpu mount or path: ProcessorCount = affinity count")
        }
        var memory = MemoryView.unlimited
        if let mount = hierarchyMount(input, v2: v2, token: "memory"), let path = cgroupPath(input, v2: v2, token: "memory") {
            let dir = directory(mount, path)
            let unlimited: UInt64 = 0x7FFF_FFFF_0000_0000
            func value(_ file: String) -> UInt64? {
                guard let line = trace.firstLine(file) else { return nil }
                if line == "max" { return nil }
                return ConsumerText.scanSigned(line).map { UInt64(bitPattern: $0) }
            }
            var limit: UInt64?
            if v2 {
                if memoryWalk {
                    // .NET 9 (dotnet/runtime#93611): the minimum from the leaf up to the mount point.
                    var components = path.dropFirst(mount.root.string == "/" ? 0 : mount.root.string.count).split(separator: "/").map(String.init)
                    while true {
                        let d = components.isEmpty ? mount.mountPoint.string : mount.mountPoint.string + "/" + components.joined(separator: "/")
                        if let v = value(d + "/memory.max") { limit = min(limit ?? v, v) }
                        if components.isEmpty { break }
                        components.removeLast()
                    }
                } else {
                    limit = value(dir + "/memory.max")
                }
            } else {
                let hierarchical = memoryWalk && (trace.firstLine(dir + "/memory.use_hierarchy").flatMap { ConsumerText.scanSigned($0) } ?? 0) > 0
                if hierarchical, let stat = trace.read(dir + "/memory.stat") {
                    limit = ConsumerText.keyedValue(stat, key: "hierarchical_memory_limit")
                } else {
                    limit = value(dir + "/memory.limit_in_bytes")
                }
            }
            if let limit, limit <= unlimited { memory = .bytes(limit) }
        }
        return trace.view(model, cpuCount: count, memory: memory, mount: cpuMount?.mountPoint.string)
    }
}
