import CgroupFormats
import SystemPackage

/// What one limit file said. "Unlimited", "file missing", "unreadable" and "unparseable" are
/// different answers and stay different: none of them is ever turned into a number.
public enum Reading<Value: Sendable & Hashable>: Sendable, Hashable {
    case value(Value)
    /// The kernel said "no limit" (`max`, `-1`, v1's page-rounded LONG_MAX).
    case unlimited
    /// ENOENT: the file does not exist at this level (the v2 root cgroup has no `cpu.max`; a v2
    /// controller not enabled in the parent's `cgroup.subtree_control`; v1 without CFS bandwidth).
    case missing(path: FilePath)
    /// Any other I/O failure, with path, syscall and errno.
    case unreadable(SystemError)
    /// The bytes were not in the kernel's format; the error names file, line, field and text.
    case unparseable(ParseError)

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    /// Transforms a value into another reading; the four other answers pass through unchanged.
    public func flatMap<T>(_ transform: (Value) -> Reading<T>) -> Reading<T> {
        switch self {
        case .value(let v): transform(v)
        case .unlimited: .unlimited
        case .missing(let path): .missing(path: path)
        case .unreadable(let error): .unreadable(error)
        case .unparseable(let error): .unparseable(error)
        }
    }

    /// True for the two answers that say something about the limit (a value or unlimited).
    public var isKnown: Bool {
        switch self {
        case .value, .unlimited: true
        default: false
        }
    }
}

/// CPU bandwidth at one level: v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us` or v2 `cpu.max`.
public struct CPUBandwidth: Sendable, Hashable {
    /// Microseconds of CPU time per period.
    public var quota: UInt64
    /// Microseconds.
    public var period: UInt64

    public init(quota: UInt64, period: UInt64) {
        self.quota = quota
        self.period = period
    }

    /// The exact fraction as CPUs: 150000/100000 is 1.5. Periods are never 0 (the parsers reject it).
    public var cores: Double { Double(quota) / Double(period) }
}

/// One level of the walk from the process's cgroup up to the mount root.
public struct LimitLevel<Value: Sendable & Hashable>: Sendable, Hashable {
    /// The cgroup path as the kernel names it (`/kubepods/pod1/ctr`), mount root included.
    public var cgroupPath: FilePath
    /// The directory read (`/sys/fs/cgroup/cpu/kubepods/pod1/ctr`).
    public var directory: FilePath
    /// The files this level's reading came from, in the order read (v1 CPU: quota, then period).
    public var files: [FilePath]
    public var reading: Reading<Value>

    public init(cgroupPath: FilePath, directory: FilePath, files: [FilePath], reading: Reading<Value>) {
        self.cgroupPath = cgroupPath
        self.directory = directory
        self.files = files
        self.reading = reading
    }
}

/// Which hierarchy a controller was read from, or why it could not be.
public enum LimitSource: Sendable, Hashable {
    /// `version` is 1 or 2; `mount` is the mount the directory was resolved through.
    case resolved(version: Int, hierarchy: Hierarchy, entry: CgroupEntry, mount: MountEntry, directory: FilePath)
    /// No line of `/proc/<pid>/cgroup` carries the controller, or its line cannot be resolved.
    case unresolved(String)
}

/// One controller's files at every level from the process's cgroup (first) up to the mount root
/// (last), and which level binds.
public struct LimitWalk<Value: Sendable & Hashable>: Sendable, Hashable {
    public var controller: Controller
    /// The interface file read at each level (`cpu.max`, `memory.limit_in_bytes`).
    public var fileName: String
    public var source: LimitSource
    /// Leaf first, mount root last. Empty when unresolved.
    public var levels: [LimitLevel<Value>]
    /// Index into ``levels`` of the level whose value binds (the smallest; ties go to the level
    /// nearest the process), nil when no level has a value.
    public var binding: Int?
    /// Why-notes: levels not visible above the mount root, root cgroups without the file, ...
    public var notes: [String]

    public init(
        controller: Controller, fileName: String, source: LimitSource, levels: [LimitLevel<Value>], binding: Int?,
        notes: [String]
    ) {
        self.controller = controller
        self.fileName = fileName
        self.source = source
        self.levels = levels
        self.binding = binding
        self.notes = notes
    }

    public var bindingLevel: LimitLevel<Value>? { binding.map { levels[$0] } }
}

/// The limit that applies to the process once every level is taken into account.
public enum EffectiveLimit<Value: Sendable & Hashable>: Sendable, Hashable {
    /// The smallest value found, and the file it came from. `complete` is false when some level
    /// could not be read: the true limit may then be smaller still.
    case limited(Value, file: FilePath, complete: Bool)
    /// Every level that has the file says unlimited, and every level was read.
    case unlimited
    /// No level has the file: the controller does not limit this process here (v2 controller not
    /// enabled, v1 kernel without the feature).
    case noLimitFile(String)
    /// Nothing can be said: the controller is not resolvable, or a level was unreadable or
    /// unparseable and no other level limits.
    case unknown(String)

    public var value: Value? {
        if case .limited(let v, _, _) = self { return v }
        return nil
    }
}

/// What limits the process's CPU use, and the CPU count it amounts to.
public struct EffectiveCPU: Sendable, Hashable {
    /// The binding CFS quota as an exact fraction of CPUs (quota / period at the binding level).
    public var quota: EffectiveLimit<Double>
    /// The binding level's quota and period.
    public var bandwidth: CPUBandwidth?
    /// The process's cpuset: `cpuset.cpus.effective` (v2), `cpuset.effective_cpus` or
    /// `cpuset.cpus` (v1) of its own cgroup.
    public var cpuset: CPUSet?
    /// `Cpus_allowed_list` of `/proc/<pid>/status`: what sched_getaffinity(2) returns.
    public var affinity: CPUSet?
    /// `/sys/devices/system/cpu/online`.
    public var online: CPUSet?
    /// The number of CPUs the process can use at once: min(ceil(quota), CPUs it may run on), where
    /// the CPUs it may run on are its affinity (which the kernel keeps within its cpuset), else the
    /// cpuset, else the online CPUs. Nil when none of them could be read.
    public var cpus: Int?
    /// What sets ``cpus``.
    public var limitedBy: CPUBound?

    public enum CPUBound: String, Sendable, Hashable {
        case quota, affinity, cpuset, online
    }

    public init(
        quota: EffectiveLimit<Double>, bandwidth: CPUBandwidth?, cpuset: CPUSet?, affinity: CPUSet?, online: CPUSet?,
        cpus: Int?, limitedBy: CPUBound?
    ) {
        self.quota = quota
        self.bandwidth = bandwidth
        self.cpuset = cpuset
        self.affinity = affinity
        self.online = online
        self.cpus = cpus
        self.limitedBy = limitedBy
    }

    /// ceil(quota cores): what a runtime that rounds up (HotSpot, num_cpus) derives from the quota
    /// alone. Nil when there is no quota.
    public var quotaCPUsRoundedUp: Int? {
        guard case .limited(let cores, _, _) = quota else { return nil }
        return max(1, Int(cores.rounded(.up)))
    }
}

/// A single value read from one file (v1 `memory.stat` `hierarchical_memory_limit`, affinity).
public struct SingleReading<Value: Sendable & Hashable>: Sendable, Hashable {
    public var file: FilePath
    /// The line the value was on, for files with many lines.
    public var line: Int?
    public var reading: Reading<Value>

    public init(file: FilePath, line: Int?, reading: Reading<Value>) {
        self.file = file
        self.line = line
        self.reading = reading
    }
}

/// The answer to "what are process P's effective CPU, memory and pids limits, and which file sets
/// each". Produced by ``LimitsReader/limits(of:)``.
public struct ProcessLimits: Sendable, Hashable {
    public var pid: Int32
    public var cgroupFile: String
    /// The mountinfo the cgroup directories were resolved against (the reader's view).
    public var mountInfoFile: String

    /// CPU bandwidth (`cpu` controller).
    public var cpu: LimitWalk<CPUBandwidth>
    /// CPU sets (`cpuset` controller); the leaf's effective set binds.
    public var cpuset: LimitWalk<CPUSet>
    /// v1 `memory.limit_in_bytes` or v2 `memory.max`.
    public var memory: LimitWalk<UInt64>
    /// v2 `memory.high`: a throttle (reclaim pressure), not a limit; nil on v1.
    public var memoryHigh: LimitWalk<UInt64>?
    /// v1 `memory.stat` `hierarchical_memory_limit` of the process's cgroup; nil on v2.
    public var hierarchicalMemoryLimit: SingleReading<UInt64>?
    public var pids: LimitWalk<UInt64>
    /// `/proc/<pid>/status` `Cpus_allowed_list`.
    public var affinity: SingleReading<CPUSet>
    /// `/sys/devices/system/cpu/online`.
    public var onlineCPUs: SingleReading<CPUSet>

    public var effectiveCPU: EffectiveCPU
    /// min over the memory walk and, on v1, `hierarchical_memory_limit` (which also covers
    /// ancestors above the mount root).
    public var effectiveMemory: EffectiveLimit<UInt64>
    /// The smallest `memory.high` (v2), nil on v1.
    public var effectiveMemoryHigh: EffectiveLimit<UInt64>?
    public var pidsMax: EffectiveLimit<UInt64>

    /// Lines of the cgroup file the parser rejected.
    public var errors: [ParseError]

    public init(
        pid: Int32, cgroupFile: String, mountInfoFile: String, cpu: LimitWalk<CPUBandwidth>, cpuset: LimitWalk<CPUSet>,
        memory: LimitWalk<UInt64>, memoryHigh: LimitWalk<UInt64>?, hierarchicalMemoryLimit: SingleReading<UInt64>?,
        pids: LimitWalk<UInt64>, affinity: SingleReading<CPUSet>, onlineCPUs: SingleReading<CPUSet>,
        effectiveCPU: EffectiveCPU, effectiveMemory: EffectiveLimit<UInt64>, effectiveMemoryHigh: EffectiveLimit<UInt64>?,
        pidsMax: EffectiveLimit<UInt64>, errors: [ParseError]
    ) {
        self.pid = pid
        self.cgroupFile = cgroupFile
        self.mountInfoFile = mountInfoFile
        self.cpu = cpu
        self.cpuset = cpuset
        self.memory = memory
        self.memoryHigh = memoryHigh
        self.hierarchicalMemoryLimit = hierarchicalMemoryLimit
        self.pids = pids
        self.affinity = affinity
        self.onlineCPUs = onlineCPUs
        self.effectiveCPU = effectiveCPU
        self.effectiveMemory = effectiveMemory
        self.effectiveMemoryHigh = effectiveMemoryHigh
        self.pidsMax = pidsMax
        self.errors = errors
    }
}
