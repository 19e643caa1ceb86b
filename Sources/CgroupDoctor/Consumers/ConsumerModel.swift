import CgroupFormats
import SystemPackage

/// A model of how one consumer of cgroups (a container runtime, a language runtime) sees a
/// process: which mount it picks, which files it reads, the CPU count and memory limit it
/// computes, or the error it raises. Each model follows one upstream version and source file,
/// named in its doc comment, and says whether it was checked against the real binary here.
public protocol ConsumerModel: Sendable {
    /// Stable id for `--consumer` and JSON (`hotspot-17`, `go-1.25`, `containerd-v1`).
    var id: String { get }
    /// Human name with version (`OpenJDK HotSpot 17`).
    var name: String { get }
    /// The upstream version and source the model follows (`openjdk/jdk17u src/hotspot/os/linux/cgroupSubsystem_linux.cpp`).
    var version: String { get }
    /// True when a test runs the real binary in the same layout and compares (LiveKernelTests).
    var verifiedAgainstBinary: Bool { get }
    /// Predicts what the consumer computes for `pid`, reading only what it would read, through `host`.
    func predict(_ process: ConsumerInput) -> ConsumerView
}

/// Everything a model may read, for one process: its own cgroup file and mountinfo (consumers
/// run inside the process, so they see its mount namespace), the host's CPU facts, and a Sysroot
/// to read interface files through. Reads go through the Sysroot so captures replay.
public struct ConsumerInput: Sendable {
    public var sysroot: Sysroot
    public var pid: Int32
    /// `/proc/<pid>/cgroup`.
    public var cgroups: ProcessCgroups
    /// `/proc/<pid>/mountinfo` (the process's own namespace), all entries.
    public var mountInfo: MountInfo
    /// `/proc/cgroups`, nil when unreadable.
    public var controllers: CgroupControllers?
    /// CPUs online on the host (`/sys/devices/system/cpu/online`), nil when unreadable.
    public var onlineCPUs: Int?
    /// CPUs in the process's affinity mask (`Cpus_allowed_list` of `/proc/<pid>/status`), nil when unreadable.
    public var affinityCPUs: Int?
    /// The container runtime's pid (`--runtime-pid`): container-runtime models look up mounts in its
    /// mount namespace, not the process's.
    public var runtimePID: Int32

    public init(
        sysroot: Sysroot, pid: Int32, cgroups: ProcessCgroups, mountInfo: MountInfo, controllers: CgroupControllers?,
        onlineCPUs: Int?, affinityCPUs: Int?, runtimePID: Int32 = 1
    ) {
        self.sysroot = sysroot
        self.pid = pid
        self.cgroups = cgroups
        self.mountInfo = mountInfo
        self.controllers = controllers
        self.onlineCPUs = onlineCPUs
        self.affinityCPUs = affinityCPUs
        self.runtimePID = runtimePID
    }

    /// Reads a file the way the consumer would; nil when it cannot (the model decides what that means).
    public func read(_ path: FilePath) -> [UInt8]? { try? sysroot.read(path) }
}

/// A memory limit as a consumer reports it. Never a magic number for "unlimited".
public enum MemoryView: Sendable, Hashable {
    case unlimited
    case bytes(UInt64)
    /// The consumer does not compute a memory limit (or its computation failed: see ``ConsumerView/error``).
    case notComputed
}

/// What one consumer makes of one process.
public struct ConsumerView: Sendable, Hashable {
    public var consumer: String
    public var name: String
    public var version: String
    public var verifiedAgainstBinary: Bool
    /// The CPU count it will use (GOMAXPROCS, availableProcessors, available_parallelism ...), nil if it fails.
    public var cpuCount: Int?
    public var memory: MemoryView
    /// The mount point it picked for the CPU controller (or the cgroup2 mount), if any.
    public var mount: String?
    /// The files it reads, in order.
    public var files: [String]
    /// The error it raises, verbatim where the consumer prints one.
    public var error: String?
    /// How it got there, one step per line.
    public var notes: [String]

    public init(
        consumer: String, name: String, version: String, verifiedAgainstBinary: Bool, cpuCount: Int?, memory: MemoryView,
        mount: String?, files: [String], error: String?, notes: [String] = []
    ) {
        self.consumer = consumer
        self.name = name
        self.version = version
        self.verifiedAgainstBinary = verifiedAgainstBinary
        self.cpuCount = cpuCount
        self.memory = memory
        self.mount = mount
        self.files = files
        self.error = error
        self.notes = notes
    }
}

/// The catalogue of models, in `explain` order.
public enum Consumers {
    public static let all: [any ConsumerModel] = [
        // container runtimes (containerd, runc)
        ContainerdV1Model(), ContainerdRuncV2Model(), RuncModel(),
        // language runtimes (HotSpot, Java metrics, Go, automaxprocs, Rust, libuv/Node, .NET)
        HotSpot17(), HotSpot21(), HotSpot25(), HotSpot8u191(), JavaMetrics17(), GoRuntime125(), Automaxprocs14(),
        Automaxprocs16(), RustStd(), LibuvNode20(), Libuv152(), DotNet8(), DotNet9(),
    ]

    public static func named(_ id: String) -> (any ConsumerModel)? { all.first { $0.id == id } }
}
