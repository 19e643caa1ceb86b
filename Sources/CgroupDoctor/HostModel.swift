import CgroupFormats
import SystemPackage

/// How the host's cgroups are laid out, decided from the fs types in mountinfo (not statfs) so a
/// captured host replays to the same answer.
public enum CgroupMode: String, Sendable, Hashable, Codable {
    /// Only cgroup v1 hierarchies are mounted.
    case legacy
    /// v1 hierarchies plus a cgroup2 mount (systemd's `/sys/fs/cgroup/unified`).
    case hybrid
    /// cgroup2 at `/sys/fs/cgroup` and no v1 hierarchy.
    case unified
    /// No cgroup filesystem mounted at all.
    case none

    /// Decides the mode from one namespace's mounts.
    public static func detect(from mounts: [MountEntry]) -> CgroupMode {
        let hasV1 = mounts.contains { $0.fileSystemType == "cgroup" }
        let v2 = mounts.filter { $0.fileSystemType == "cgroup2" }
        switch (hasV1, v2.isEmpty) {
        case (true, true): return .legacy
        case (true, false): return .hybrid
        case (false, false): return .unified
        case (false, true): return .none
        }
    }
}

/// A cgroup hierarchy as the kernel reports it: id 0 is the v2 hierarchy, others are v1.
public struct Hierarchy: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var id: Int
    /// Controllers bound to it, in the kernel's order.
    public var controllers: [Controller]
    /// Name without `name=`, nil if unnamed.
    public var name: String?

    public init(id: Int, controllers: [Controller], name: String?) {
        self.id = id
        self.controllers = controllers
        self.name = name
    }

    public init(_ entry: CgroupEntry) {
        self.init(id: entry.hierarchyID, controllers: entry.controllers, name: entry.name)
    }

    public var isUnified: Bool { id == 0 }

    /// `name=cpu_mirror`, `cpu,cpuacct`, `name=systemd`, or `cgroup2` for id 0.
    public var label: String {
        if isUnified { return "cgroup2" }
        var tokens = controllers.map(\.rawValue)
        if let name { tokens.append("name=\(name)") }
        return tokens.joined(separator: ",")
    }

    /// The super options a v1 mount of this hierarchy must carry, as exact tokens.
    public var requiredSuperOptions: [String] {
        var tokens = controllers.map(\.rawValue)
        if let name { tokens.append("name=\(name)") }
        return tokens
    }

    /// True if `mount` is a mount of this hierarchy: fs type `cgroup2` for id 0; for v1, fs type
    /// `cgroup` and every controller and the `name=` carried as exact super-option tokens (never a
    /// substring: `name=cpu_mirror` is not `cpu`), which is also how containerd and runc match.
    public func isMounted(by mount: MountEntry) -> Bool {
        if isUnified { return mount.fileSystemType == "cgroup2" }
        guard mount.fileSystemType == "cgroup" else { return false }
        let required = requiredSuperOptions
        if required.isEmpty { return false }
        return required.allSatisfy { mount.superOptions.contains($0) }
    }

    public var description: String { "hierarchy \(id) (\(label))" }

    public static func < (lhs: Hierarchy, rhs: Hierarchy) -> Bool { lhs.id < rhs.id }
}

/// One process as scanned.
public struct ProcessRecord: Sendable, Hashable {
    public var pid: Int32
    public var cgroups: ProcessCgroups
    /// The `/proc/<pid>/ns/mnt` link target (`mnt:[4026531841]`), nil if it could not be read.
    public var mountNamespace: String?
    /// Equal for processes whose cgroup files are byte-identical (the processes of one container),
    /// so checks can do per-path work once per distinct file; nil when unknown.
    public var contentID: Int?

    public init(pid: Int32, cgroups: ProcessCgroups, mountNamespace: String?, contentID: Int? = nil) {
        self.pid = pid
        self.cgroups = cgroups
        self.mountNamespace = mountNamespace
        self.contentID = contentID
    }
}

/// One distinct mount namespace and the mounts of it that matter to cgroups.
public struct MountNamespace: Sendable, Hashable {
    /// The namespace's identity (`mnt:[4026531841]`), or `pid:<pid>` when the link is unreadable
    /// (captures without `ns/` links).
    public var id: String
    /// The process whose mountinfo was read, and its command name.
    public var holderPID: Int32
    public var holderCommand: String?
    /// How many scanned processes are in it.
    public var processCount: Int
    /// The parsed mountinfo (cgroup, cgroup2 and the tmpfs at /sys/fs/cgroup are kept).
    public var mountInfo: MountInfo

    public init(id: String, holderPID: Int32, holderCommand: String?, processCount: Int, mountInfo: MountInfo) {
        self.id = id
        self.holderPID = holderPID
        self.holderCommand = holderCommand
        self.processCount = processCount
        self.mountInfo = mountInfo
    }

    public var cgroupMounts: [MountEntry] {
        mountInfo.entries.filter { $0.fileSystemType == "cgroup" || $0.fileSystemType == "cgroup2" }
    }
}

/// Facts read from the root directory of a mounted v1 hierarchy (a mount whose root is `/`).
public struct HierarchyRoot: Sendable, Hashable {
    public var hierarchy: Hierarchy
    /// The mount it was read through, in the runtime's namespace.
    public var mount: MountEntry
    /// `release_agent` contents without the newline; nil if unreadable, "" if empty.
    public var releaseAgent: String?
    /// Directories below the root (live cgroups, excluding the root). Counted only when
    /// /proc/cgroups says the hierarchy has at least ``HostScanner/dyingCountThreshold`` cgroups,
    /// since only then can dying cgroups matter; nil otherwise.
    public var liveCgroups: Int?

    public init(hierarchy: Hierarchy, mount: MountEntry, releaseAgent: String?, liveCgroups: Int?) {
        self.hierarchy = hierarchy
        self.mount = mount
        self.releaseAgent = releaseAgent
        self.liveCgroups = liveCgroups
    }
}

/// Facts read from the root of the cgroup2 mount in the runtime's namespace.
public struct Cgroup2Root: Sendable, Hashable {
    public var mount: MountEntry
    /// `cgroup.controllers` of the root: controllers available on v2.
    public var controllers: [Controller]?
    /// `cgroup.stat` of the root (`nr_descendants`, `nr_dying_descendants`).
    public var stat: FlatKeyedFile?

    public init(mount: MountEntry, controllers: [Controller]?, stat: FlatKeyedFile?) {
        self.mount = mount
        self.controllers = controllers
        self.stat = stat
    }
}

/// A file cgdoctor needed but could not read (other than a process that exited).
public struct ReadProblem: Sendable, Hashable {
    public var error: SystemError
    public var pid: Int32?
    public init(error: SystemError, pid: Int32?) {
        self.error = error
        self.pid = pid
    }
}

/// Everything the checks look at, captured in one pass. A pure value: checks never do I/O.
public struct HostSnapshot: Sendable {
    public var sysroot: Sysroot
    /// The pid whose mount namespace is "the runtime's view" (PID 1 unless told otherwise).
    public var referencePID: Int32
    /// `/proc/cgroups`, nil if it could not be read (see ``problems``).
    public var controllers: CgroupControllers?
    /// Every process that was still alive when read, in pid order.
    public var processes: [ProcessRecord]
    /// Distinct mount namespaces, the reference one first.
    public var namespaces: [MountNamespace]
    /// Processes that exited between listing /proc and reading their files.
    public var exitedDuringScan: Int
    /// Files that could not be read for reasons other than process exit.
    public var problems: [ReadProblem]
    /// Command names (`/proc/<pid>/comm`) read so far; filled for PID 1, namespace holders and the
    /// processes findings name.
    public var commands: [Int32: String]
    /// Root facts of each v1 hierarchy mounted (with root `/`) in the runtime's namespace.
    public var hierarchyRoots: [HierarchyRoot]
    /// Root facts of the cgroup2 mount in the runtime's namespace, if any.
    public var cgroup2Root: Cgroup2Root?
    /// `/proc/sys/kernel/osrelease` (`6.1.0-13-amd64`), nil when unreadable (captures may lack it).
    public var kernelRelease: String?

    public init(
        sysroot: Sysroot, referencePID: Int32, controllers: CgroupControllers?, processes: [ProcessRecord],
        namespaces: [MountNamespace], exitedDuringScan: Int, problems: [ReadProblem], commands: [Int32: String],
        hierarchyRoots: [HierarchyRoot] = [], cgroup2Root: Cgroup2Root? = nil, kernelRelease: String? = nil
    ) {
        self.sysroot = sysroot
        self.referencePID = referencePID
        self.controllers = controllers
        self.processes = processes
        self.namespaces = namespaces
        self.exitedDuringScan = exitedDuringScan
        self.problems = problems
        self.commands = commands
        self.hierarchyRoots = hierarchyRoots
        self.cgroup2Root = cgroup2Root
        self.kernelRelease = kernelRelease
    }

    /// The kernel's major and minor version from ``kernelRelease`` (`6.1.0-13-amd64` → (6, 1)).
    public var kernelVersion: (major: Int, minor: Int)? {
        guard let release = kernelRelease else { return nil }
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    /// PID 1's command (`systemd`, `init`, `runit`), nil if unreadable.
    public var initCommand: String? { commands[1] }

    /// The record of one process, if scanned.
    public func process(_ pid: Int32) -> ProcessRecord? {
        var low = 0
        var high = processes.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if processes[mid].pid == pid { return processes[mid] }
            if processes[mid].pid < pid { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }

    /// The runtime's mount namespace (the reference pid's), nil if its mountinfo was unreadable.
    public var referenceNamespace: MountNamespace? { namespaces.first { $0.holderPID == referencePID } }

    public var mode: CgroupMode { CgroupMode.detect(from: referenceNamespace?.mountInfo.entries ?? []) }

    /// Every hierarchy listed in any scanned `/proc/<pid>/cgroup`, by id, plus v1 hierarchies that
    /// /proc/cgroups names but no process lists.
    public var hierarchies: [Hierarchy] {
        var byID: [Int: Hierarchy] = [:]
        for hierarchy in listedHierarchies { byID[hierarchy.id] = hierarchy }
        if let controllers {
            for entry in controllers.entries where entry.hierarchyID != 0 {
                if byID[entry.hierarchyID] == nil {
                    byID[entry.hierarchyID] = Hierarchy(id: entry.hierarchyID, controllers: [entry.controller], name: nil)
                } else if !(byID[entry.hierarchyID]?.controllers.contains(entry.controller) ?? true) {
                    byID[entry.hierarchyID]?.controllers.append(entry.controller)
                }
            }
        }
        return byID.values.sorted()
    }

    /// Every hierarchy listed in at least one scanned `/proc/<pid>/cgroup`, by id.
    public var listedHierarchies: [Hierarchy] {
        var byID: [Int: Hierarchy] = [:]
        var seen = Set<Int>()
        for process in processes {
            // Identical cgroup files (one container's processes) list the same hierarchies.
            if let id = process.contentID, !seen.insert(id).inserted { continue }
            for entry in process.cgroups.entries where byID[entry.hierarchyID] == nil {
                byID[entry.hierarchyID] = Hierarchy(entry)
            }
        }
        return byID.values.sorted()
    }

    public func command(of pid: Int32) -> String? { commands[pid] }
}
