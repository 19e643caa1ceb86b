import CgroupFormats
import SystemPackage

/// The cgroup code HotSpot (the JVM's C++ side) shares across JDK 15..25, with the version
/// differences as switches. Each ``HotSpot17``/``HotSpot21``/``HotSpot25`` model picks its switches
/// and documents where they come from.
///
/// Source: openjdk/jdk17u-dev src/hotspot/os/linux/cgroupSubsystem_linux.cpp
/// (`CgroupSubsystemFactory::determine_type`, `set_controller_paths`, `active_processor_count`,
/// `memory_limit_in_bytes`), cgroupV1Subsystem_linux.cpp (`set_subsystem_path`,
/// `read_memory_limit_in_bytes`), cgroupV2Subsystem_linux.cpp; jdk21u-dev and jdk25u-dev for the
/// switches (research/consumers.md §1).
struct HotSpotRules: Sendable {
    enum Detection: Sendable {
        /// JDK 15..24: v2 iff memory, cpu and cpuacct all have hierarchy id 0 in /proc/cgroups.
        case procCgroups
        /// JDK 25 (JDK-8349988): v2 iff statfs(/sys/fs/cgroup) is cgroup2; then
        /// /sys/fs/cgroup/cgroup.controllers must list cpu and memory.
        case statfs
    }
    enum V1PathMapping: Sendable {
        /// Before JDK-8343191: root "/" -> mount + path; root == path -> mount; otherwise the
        /// `strstr(...) == _root` pointer comparison is never true and the path stays NULL.
        case prefixPointerBug
        /// JDK-8343191 (24/25): root == path -> mount; else the first existing `mount + suffix` of
        /// the cgroup path (`/a/b/c`, `/b/c`, `/c`), else the mount.
        case suffixSearch
    }
    var detection: Detection
    var v1Paths: V1PathMapping
    /// JDK-8322420: look for a lower CPU or memory limit in every ancestor up to the mount.
    var walkUp: Bool
}

/// `CgroupSubsystemFactory` result codes (cgroupSubsystem_linux.hpp), as the jtreg test asserts them.
enum HotSpotCgroupType: Int, Sendable {
    case v1 = 1
    case v2 = 2
    case invalidV2 = 3
    case invalidV1 = 4
    case noMount = 5
    case generic = 6
}

/// What `determine_type` found per controller (`CgroupInfo`).
struct HotSpotControllerInfo: Sendable, Hashable {
    var hierarchyID = 0
    var enabled = false
    var cgroupPath: String?
    var mountPoint: String?
    var root: String?
    var dataComplete = false
}

struct HotSpotDetection: Sendable {
    var type: HotSpotCgroupType
    var infos: [String: HotSpotControllerInfo]
    var log: [String]
    var isValid: Bool { type == .v1 || type == .v2 }
}

enum HotSpotCgroups {
    static let controllers = ["cpuset", "cpu", "cpuacct", "memory", "pids"]

    /// `CgroupSubsystemFactory::determine_type`. `procCgroups` is /proc/cgroups (JDK ≤ 24 and the v1
    /// branch of 25); `statfsV2`/`controllersFile` are the JDK 25 inputs (nil for older JDKs).
    static func determineType(
        rules: HotSpotRules, procCgroups: CgroupControllers?, statfsV2: Bool, controllersFile: [UInt8]?,
        cgroups: ProcessCgroups, mountInfo: MountInfo
    ) -> HotSpotDetection {
        var infos: [String: HotSpotControllerInfo] = [:]
        for name in controllers { infos[name] = HotSpotControllerInfo() }
        var log: [String] = []
        let isV2: Bool
        if rules.detection == .statfs && statfsV2 {
            guard let bytes = controllersFile else {
                log.append("Can't read /sys/fs/cgroup/cgroup.controllers")
                return HotSpotDetection(type: .generic, infos: infos, log: log)
            }
            if bytes.isEmpty { return HotSpotDetection(type: .invalidV2, infos: infos, log: log) }
            let names = ConsumerText.firstLine(bytes).split(whereSeparator: { " \t\r\u{0B}\u{0C}".contains($0) }).map(String.init)
            for name in names where infos[name] != nil {
                infos[name]?.enabled = true
            }
            // cpuacct has no v2 file; the 25 code marks it enabled with cpu.
            if infos["cpu"]?.enabled == true { infos["cpuacct"]?.enabled = true }
            guard infos["cpu"]?.enabled == true, infos["memory"]?.enabled == true else {
                log.append("Required controllers cpu and memory not both listed in cgroup.controllers")
                return HotSpotDetection(type: .generic, infos: infos, log: log)
            }
            isV2 = true
        } else {
            guard let procCgroups else {
                log.append("Can't open /proc/cgroups")
                return HotSpotDetection(type: .generic, infos: infos, log: log)
            }
            for entry in procCgroups.entries where infos[entry.controller.rawValue] != nil {
                infos[entry.controller.rawValue]?.hierarchyID = entry.hierarchyID
                infos[entry.controller.rawValue]?.enabled = entry.enabled
            }
            var v2 = true
            var allEnabled = true
            for name in ["cpuset", "cpu", "cpuacct", "memory"] {
                if name != "cpuset" { v2 = v2 && infos[name]?.hierarchyID == 0 }
                allEnabled = allEnabled && infos[name]?.enabled == true
            }
            if rules.detection == .statfs { v2 = false }
            guard allEnabled else {
                log.append("One or more required controllers disabled at kernel level.")
                return HotSpotDetection(type: .generic, infos: infos, log: log)
            }
            isV2 = v2
        }
        // /proc/self/cgroup: v1 exact tokens; v2 only the hierarchy-0 line.
        for entry in cgroups.entries {
            if isV2 {
                guard entry.hierarchyID == 0 else { continue }
                for name in controllers { infos[name]?.cgroupPath = entry.path.string }
            } else {
                for token in entry.controllers.map(\.rawValue) where infos[token] != nil {
                    infos[token]?.cgroupPath = entry.path.string
                }
            }
        }
        var cgroup2Found = false
        var anyMount = false
        func set(_ name: String, _ entry: MountEntry) {
            let mount = entry.mountPoint.string
            if let existing = infos[name]?.mountPoint {
                // Duplicates: keep the one under /sys/fs/cgroup (strstr(existing, "/sys/fs/cgroup") == existing).
                if !existing.hasPrefix("/sys/fs/cgroup") {
                    log.append("Duplicate \(name) controllers detected. Picking \(mount), skipping \(existing).")
                    infos[name]?.mountPoint = mount
                    infos[name]?.root = entry.root.string
                } else {
                    log.append("Duplicate \(name) controllers detected. Picking \(existing), skipping \(mount).")
                }
            } else {
                infos[name]?.mountPoint = mount
                infos[name]?.root = entry.root.string
            }
        }
        for entry in mountInfo.entries {
            if isV2 && entry.fileSystemType == "cgroup2" {
                cgroup2Found = true
                anyMount = true
                for name in controllers { set(name, entry) }
            }
            if entry.fileSystemType == "cgroup" {
                for token in entry.superOptions where infos[token] != nil {
                    anyMount = true
                    set(token, entry)
                    infos[token]?.dataComplete = true
                }
            }
        }
        if !anyMount {
            log.append("No relevant cgroup controllers mounted.")
            return HotSpotDetection(type: .noMount, infos: infos, log: log)
        }
        if isV2 {
            if !cgroup2Found {
                log.append("Mount point for cgroupv2 not found in /proc/self/mountinfo")
                return HotSpotDetection(type: .invalidV2, infos: infos, log: log)
            }
            log.append("Detected cgroups v2 unified hierarchy")
            return HotSpotDetection(type: .v2, infos: infos, log: log)
        }
        log.append("Detected cgroups hybrid or legacy hierarchy, using cgroups v1 controllers")
        for name in ["memory", "cpuset", "cpu", "cpuacct"] where infos[name]?.dataComplete != true {
            log.append("Required cgroup v1 \(name) subsystem not found")
            return HotSpotDetection(type: .invalidV1, infos: infos, log: log)
        }
        return HotSpotDetection(type: .v1, infos: infos, log: log)
    }

    /// `CgroupV1Controller::set_subsystem_path` (both variants). nil: HotSpot's `_path` stays NULL.
    static func v1Path(
        mount: String, root: String, cgroupPath: String?, mapping: HotSpotRules.V1PathMapping,
        exists: (String) -> Bool
    ) -> String? {
        guard let cgroupPath else { return nil }
        if root == "/" { return mount + (cgroupPath == "/" ? "" : cgroupPath) }
        if root == cgroupPath { return mount }
        switch mapping {
        case .prefixPointerBug:
            return nil
        case .suffixSearch:
            var suffix = Substring(cgroupPath)
            while !suffix.isEmpty {
                let candidate = mount + suffix
                if exists(candidate) { return candidate }
                guard let next = suffix.dropFirst().firstIndex(of: "/") else { break }
                suffix = suffix[next...]
            }
            return mount
        }
    }

    /// CgroupV2Controller: mount + cgroup path ("/" adds nothing); the mount root is not used.
    static func v2Path(mount: String, cgroupPath: String) -> String {
        mount + (cgroupPath == "/" ? "" : cgroupPath)
    }

    /// A prediction for one HotSpot version.
    static func predict(_ model: some ConsumerModel, rules: HotSpotRules, input: ConsumerInput) -> ConsumerView {
        var trace = ConsumerTrace(input)
        let affinity = HostFacts.affinity(input)
        let statfsV2 = HostFacts.sysFsCgroupIsCgroup2(input)
        var controllersFile: [UInt8]?
        if rules.detection == .statfs {
            trace.note("statfs(/sys/fs/cgroup): \(statfsV2 ? "cgroup2" : "not cgroup2") (from mountinfo)")
            if statfsV2 { controllersFile = trace.read("/sys/fs/cgroup/cgroup.controllers") }
        }
        trace.files.append(contentsOf: ["/proc/cgroups", "/proc/self/cgroup", "/proc/self/mountinfo"])
        let detection = determineType(
            rules: rules, procCgroups: input.controllers, statfsV2: statfsV2, controllersFile: controllersFile,
            cgroups: input.cgroups, mountInfo: input.mountInfo)
        trace.notes.append(contentsOf: detection.log)
        guard detection.isValid else {
            trace.note("no container support (determine_type = \(detection.type)): host CPU count and memory are used")
            return trace.view(model, cpuCount: affinity, memory: .unlimited, mount: nil)
        }
        let physical = HostFacts.physicalMemory(input)
        let isV2 = detection.type == .v2
        func path(_ name: String) -> String? {
            guard let info = detection.infos[name], let mount = info.mountPoint else { return nil }
            if isV2 { return info.cgroupPath.map { v2Path(mount: mount, cgroupPath: $0) } }
            return v1Path(
                mount: mount, root: info.root ?? "/", cgroupPath: info.cgroupPath, mapping: rules.v1Paths,
                exists: { trace.directoryExists($0) })
        }
        let cpuMount = detection.infos["cpu"]?.mountPoint
        // CPU
        var cpuDirectory = path("cpu")
        var memoryDirectory = path("memory")
        if cpuDirectory == nil { trace.note("cpu controller path is NULL (cgroup path \(detection.infos["cpu"]?.cgroupPath ?? "none") not at or below mount root \(detection.infos["cpu"]?.root ?? "?")): every cpu read fails (OSCONTAINER_ERROR)") }
        if memoryDirectory == nil { trace.note("memory controller path is NULL: every memory read fails (OSCONTAINER_ERROR)") }
        func cpuLimit(_ directory: String) -> Int? {
            guard let (quota, period) = readQuota(&trace, directory, v2: isV2) else { return nil }
            guard quota > -1, period > 0 else { return nil }
            return QuotaMath.ceilFloat(quota, period)
        }
        func memoryLimit(_ directory: String) -> UInt64? {
            guard case .bytes(let b) = readMemory(&trace, directory, v2: isV2, physical: physical) else { return nil }
            return b
        }
        if rules.walkUp, let info = detection.infos["cpu"], let cgroupPath = info.cgroupPath, let mount = info.mountPoint,
            let start = cpuDirectory, needsAdjustment(isV2: isV2, root: info.root, cgroupPath: cgroupPath)
        {
            cpuDirectory = lowest(start: start, mount: mount, cgroupPath: cgroupPath, isV2: isV2, limit: { cpuLimit($0).map(UInt64.init) })
            if cpuDirectory != start { trace.note("Adjusted controller path for cpu to: \(cpuDirectory ?? start)") }
        }
        if rules.walkUp, let info = detection.infos["memory"], let cgroupPath = info.cgroupPath, let mount = info.mountPoint,
            let start = memoryDirectory, needsAdjustment(isV2: isV2, root: info.root, cgroupPath: cgroupPath)
        {
            memoryDirectory = lowest(start: start, mount: mount, cgroupPath: cgroupPath, isV2: isV2, limit: memoryLimit)
            if memoryDirectory != start { trace.note("Adjusting controller path for memory: \(memoryDirectory ?? start)") }
        }
        var count = affinity
        if let directory = cpuDirectory, let (quota, period) = readQuota(&trace, directory, v2: isV2) {
            trace.note("CPU Quota is: \(quota); CPU Period is: \(period)")
            if quota > -1 && period > 0 {
                let quotaCount = QuotaMath.ceilFloat(quota, period)
                trace.note("CPU Quota count based on quota/period: \(quotaCount)")
                if quotaCount != 0, let a = affinity { count = min(a, quotaCount) } else if quotaCount != 0 { count = quotaCount }
            }
        } else {
            trace.note("CPU Quota is: -2 (OSCONTAINER_ERROR): the affinity count is used")
        }
        var memory = MemoryView.unlimited
        if let directory = memoryDirectory {
            memory = readMemory(&trace, directory, v2: isV2, physical: physical)
        } else {
            trace.note("Memory Limit is: -2 (OSCONTAINER_ERROR): host memory is used")
        }
        trace.note("cpu shares / cpu.weight are not used for the CPU count (JDK-8281181)")
        return trace.view(model, cpuCount: count, memory: memory, mount: cpuMount)
    }

    static func needsAdjustment(isV2: Bool, root: String?, cgroupPath: String) -> Bool {
        if cgroupPath.contains("../") { return false }
        return isV2 ? cgroupPath != "/" : root != cgroupPath
    }

    /// JDK-8322420 `CgroupUtil::adjust_controller`: the directory with the strictly lowest limit among
    /// the original, its ancestors and the mount point.
    static func lowest(
        start: String, mount: String, cgroupPath: String, isV2: Bool, limit: (String) -> UInt64?
    ) -> String {
        var best = start
        var bestLimit = limit(start)
        var components = cgroupPath.split(separator: "/").map(String.init)
        while !components.isEmpty {
            components.removeLast()
            let directory = components.isEmpty ? mount : mount + "/" + components.joined(separator: "/")
            if let value = limit(directory), bestLimit.map({ value < $0 }) ?? true {
                best = directory
                bestLimit = value
            }
        }
        return best
    }

    /// v1 cpu.cfs_quota_us + cpu.cfs_period_us, or v2 cpu.max ("max" -> -1). nil: a read failed.
    static func readQuota(_ trace: inout ConsumerTrace, _ directory: String, v2: Bool) -> (Int64, Int64)? {
        if v2 {
            guard let line = trace.firstLine(directory + "/cpu.max") else { return nil }
            let fields = line.split(separator: " ")
            guard fields.count >= 2 else { return nil }
            let quota: Int64? = fields[0] == "max" ? -1 : ConsumerText.scanSigned(fields[0])
            guard let quota, let period = ConsumerText.scanSigned(fields[1]) else { return nil }
            return (quota, period)
        }
        guard let q = trace.firstLine(directory + "/cpu.cfs_quota_us"), let quota = ConsumerText.scanSigned(q) else { return nil }
        guard let p = trace.firstLine(directory + "/cpu.cfs_period_us"), let period = ConsumerText.scanSigned(p) else { return nil }
        // HotSpot reads a julong and casts to int: -1 stays -1.
        return (Int64(Int32(truncatingIfNeeded: quota)), Int64(Int32(truncatingIfNeeded: period)))
    }

    /// `memory_limit_in_bytes`: v1 memory.limit_in_bytes (≥ physical memory -> hierarchical_memory_limit
    /// when memory.use_hierarchy > 0), v2 memory.max; anything ≥ physical memory is unlimited.
    static func readMemory(_ trace: inout ConsumerTrace, _ directory: String, v2: Bool, physical: UInt64?) -> MemoryView {
        let host = physical ?? UInt64.max
        if physical == nil { trace.note("/proc/meminfo unreadable: cannot compare limits with physical memory") }
        if v2 {
            guard let line = trace.firstLine(directory + "/memory.max") else {
                trace.note("Memory Limit read failed: host memory is used")
                return .unlimited
            }
            if line == "max" { return .unlimited }
            guard let value = ConsumerText.scanSigned(line), value >= 0 else { return .unlimited }
            return UInt64(value) >= host ? .unlimited : .bytes(UInt64(value))
        }
        guard let line = trace.firstLine(directory + "/memory.limit_in_bytes"), let value = ConsumerText.scanSigned(line) else {
            trace.note("Memory Limit read failed (OSCONTAINER_ERROR): host memory is used")
            return .unlimited
        }
        let limit = UInt64(bitPattern: value)
        if limit < host { return .bytes(limit) }
        let hierarchical = trace.firstLine(directory + "/memory.use_hierarchy").flatMap { ConsumerText.scanSigned($0) } ?? 0
        if hierarchical > 0 {
            guard let stat = trace.read(directory + "/memory.stat"),
                let h = ConsumerText.keyedValue(stat, key: "hierarchical_memory_limit")
            else { return .unlimited }
            trace.note("Hierarchical Memory Limit is: \(h)")
            if h < host { return .bytes(h) }
        }
        return .unlimited
    }
}
