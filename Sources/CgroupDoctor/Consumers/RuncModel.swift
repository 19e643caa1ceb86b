import CgroupFormats
import SystemPackage

/// runc's cgroupfs (`fs`) manager finding a process's own cgroup directory per subsystem: what
/// runc does for a relative `cgroupsPath` (the container goes below runc's own cgroups) and for a
/// runc nested in a container.
///
/// Follows runc 1.1.5 as packaged by Debian 12 (`libcontainer/cgroups/fs/fs.go` subsystem list and
/// `Apply`, `fs/paths.go` `subsysPath`, `libcontainer/cgroups/v1_utils.go` `GetOwnCgroupPath`,
/// `getCgroupPathHelper`, `FindCgroupMountpointAndRoot`, `NotFoundError`, `utils.go`
/// `parseCgroupFromReader`, `fs2/defaultpath.go`); the same code moved to opencontainers/cgroups
/// in runc 1.3 (research/runtime-anchors.md §1.5). Rules replayed:
/// - `IsCgroup2UnifiedMode()` (statfs of /sys/fs/cgroup, decided here from the mountinfo): the
///   v2 directory is /sys/fs/cgroup joined with the `0::` path ("cgroup path not found" without one);
/// - otherwise, for each of cpuset, devices, memory, cpu, cpuacct, pids, blkio, hugetlb, net_cls,
///   net_prio, perf_event, freezer, rdma, name=systemd: the path of `subsystem` (or `name=` +
///   subsystem) in /proc/<pid>/cgroup, then the first fstype-`cgroup` mount whose super options
///   carry it as an exact token, and `Join(mountpoint, Rel(root, path))` — a path outside the root
///   is joined with its `..` all the same;
/// - a subsystem absent from the cgroup file or from every mount is `NotFoundError` ("mountpoint
///   for X not found", one message for both causes), skipped except for `devices`, which is fatal.
///   runc never iterates named hierarchies other than name=systemd, so an unmounted
///   `name=cpu_mirror` is invisible to it.
///
/// runc runs in containerd's mount namespace, so the model reads `/proc/<runtimePID>/mountinfo`.
/// Verified against the real runc 1.1.5 here: a container started with a relative cgroupsPath
/// lands in the predicted directories (LiveKernelTests/ContainerdGroundTruthTests).
public struct RuncModel: ConsumerModel {
    /// The process whose mount namespace the runtime runs in; nil: the input's `--runtime-pid`.
    public var runtimePID: Int32?

    public init(runtimePID: Int32? = nil) { self.runtimePID = runtimePID }

    public var id: String { "runc" }
    public var name: String { "runc 1.1 (libcontainer cgroupfs manager)" }
    public var version: String {
        "runc 1.1.5 (Debian 12) libcontainer/cgroups/v1_utils.go GetOwnCgroupPath/FindCgroupMountpointAndRoot, fs/fs.go, fs/paths.go, fs2/defaultpath.go"
    }
    public var verifiedAgainstBinary: Bool { true }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        let replay = RuncCgroupsV1.replay(process, runtimePID: runtimePID ?? process.runtimePID)
        var notes = replay.notes
        notes.append("container runtimes do not compute a CPU count or a memory limit")
        return ConsumerView(
            consumer: id, name: name, version: version, verifiedAgainstBinary: verifiedAgainstBinary, cpuCount: nil,
            memory: .notComputed, mount: replay.cpuMount, files: replay.files, error: replay.error, notes: notes)
    }
}

/// runc 1.1.5's v1 helpers as pure functions, plus the replay the model runs.
enum RuncCgroupsV1 {
    /// `fs.subsystems` order (runc 1.1).
    static let subsystems = [
        "cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb", "net_cls", "net_prio", "perf_event",
        "freezer", "rdma", "name=systemd",
    ]

    /// `NotFoundError.Error()`.
    static func notFound(_ subsystem: String) -> String { "mountpoint for \(subsystem) not found" }

    /// `parseCgroupFromReader`: `SplitN(line, ":", 3)`; every comma token of field 2 is a key, the
    /// empty one included (the `0::` line lands under ""). Keys keep `name=`.
    static func parseCgroupFile(_ bytes: [UInt8]) -> Result<[String: String], GoError> {
        var map: [String: String] = [:]
        for text in ContainerdCgroupsV1.scanLines(bytes) {
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                return .failure(GoError("invalid cgroup entry: must contain at least two colons: \(text)"))
            }
            for token in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                map[String(token)] = String(parts[2])
            }
        }
        return .success(map)
    }

    /// `getControllerPath`.
    static func controllerPath(_ subsystem: String, in map: [String: String]) -> Result<String, GoError> {
        if let path = map[subsystem] ?? map["name=" + subsystem] { return .success(path) }
        return .failure(GoError(notFound(subsystem)))
    }

    /// `findCgroupMountpointAndRootFromMI(mounts, prefix, subsystem)` over fstype-`cgroup` mounts
    /// (moby/sys/mountinfo decodes the octal escapes): the first mount whose mount point starts with
    /// `prefix` (a string prefix, not a path one) and whose super options carry `subsystem` exactly.
    static func findMountpointAndRoot(_ subsystem: String, prefix: String = "", mounts: [MountEntry]) -> MountEntry? {
        mounts.first { mount in
            mount.fileSystemType == "cgroup" && mount.mountPoint.string.hasPrefix(prefix) && mount.superOptions.contains(subsystem)
        }
    }

    /// `getCgroupPathHelper`: `Join(mountpoint, Rel(root, cgroup))`.
    static func cgroupPath(mount: MountEntry, cgroup: String) -> String {
        GoPath.join(mount.mountPoint.string, GoPath.rel(mount.root.string, cgroup))
    }

    struct Replay {
        var files: [String] = []
        var notes: [String] = []
        var error: String?
        var cpuMount: String?
        /// subsystem -> directory, for the subsystems runc uses.
        var directories: [String: String] = [:]
    }

    static func replay(_ input: ConsumerInput, runtimePID: Int32) -> Replay {
        var replay = Replay()
        let cgroupFile = "/proc/\(input.pid)/cgroup"
        var mountInfoFile = "/proc/\(runtimePID)/mountinfo"
        var mounts: [MountEntry]
        let (runtimeSysroot, viewNote) = RuntimeView.sysroot(input, runtimePID: runtimePID)
        if let viewNote { replay.notes.append(viewNote) }
        if let bytes = try? runtimeSysroot.read(FilePath(mountInfoFile)) {
            mounts = MountInfo.parse(bytes, file: mountInfoFile).entries
        } else {
            replay.notes.append("\(mountInfoFile) unreadable: used \(input.mountInfo.file) as runc's /proc/self/mountinfo")
            mountInfoFile = input.mountInfo.file
            mounts = input.mountInfo.entries
        }
        replay.files = [cgroupFile, mountInfoFile]
        replay.notes.insert("runc reads /proc/self/mountinfo in its own mount namespace: \(mountInfoFile)", at: 0)

        guard let bytes = try? input.sysroot.read(FilePath(cgroupFile)) else {
            replay.error = "open \(cgroupFile): no such file or directory"
            return replay
        }

        // IsCgroup2UnifiedMode(): the last mount at /sys/fs/cgroup is what statfs sees.
        if mounts.last(where: { $0.mountPoint == "/sys/fs/cgroup" })?.fileSystemType == "cgroup2" {
            replay.notes.append("IsCgroup2UnifiedMode(): cgroup2 at /sys/fs/cgroup; the fs2 manager joins it with the 0:: path")
            switch ContainerdCgroupsV2.groupPath(bytes) {
            case .failure(let error):
                replay.error = error.message
            case .success(let group):
                let directory = GoPath.join("/sys/fs/cgroup", group)
                replay.files.append(directory)
                replay.directories[""] = directory
                replay.cpuMount = "/sys/fs/cgroup"
            }
            return replay
        }

        let map: [String: String]
        switch parseCgroupFile(bytes) {
        case .failure(let error):
            replay.error = error.message
            return replay
        case .success(let parsed):
            map = parsed
        }
        var skipped: [String] = []
        for subsystem in subsystems {
            let path: String
            switch controllerPath(subsystem, in: map) {
            case .failure(let error):
                if subsystem == "devices" {
                    replay.notes.append("devices is not listed in \(cgroupFile): fatal (\"non-presence of the devices subsystem is considered fatal for security reasons\")")
                    replay.error = error.message
                    return replay
                }
                skipped.append("\(subsystem) (not in \(cgroupFile))")
                continue
            case .success(let found):
                path = found
            }
            guard let mount = findMountpointAndRoot(subsystem, mounts: mounts) else {
                if subsystem == "devices" {
                    replay.notes.append("devices has no fstype-cgroup mount in \(mountInfoFile): fatal")
                    replay.error = notFound(subsystem)
                    return replay
                }
                skipped.append("\(subsystem) (\(notFound(subsystem)))")
                continue
            }
            let directory = cgroupPath(mount: mount, cgroup: path)
            let rel = GoPath.rel(mount.root.string, path)
            if rel == ".." || rel.hasPrefix("../") {
                replay.notes.append(
                    "\(subsystem): path \(path) is outside the root \(mount.root.string) of \(mount.mountPoint.string) (\(mountInfoFile):\(mount.line)); runc joins Rel = \(rel) anyway: \(directory)")
            }
            replay.files.append(directory)
            replay.directories[subsystem] = directory
            if subsystem == "cpu" { replay.cpuMount = mount.mountPoint.string }
        }
        if !skipped.isEmpty { replay.notes.append("skipped (IsNotFound, tolerated): \(skipped.joined(separator: "; "))") }
        let named = map.keys.filter { $0.hasPrefix("name=") && $0 != "name=systemd" }.sorted()
        if !named.isEmpty {
            replay.notes.append("ignored: runc does not look at \(named.joined(separator: ", ")) (only its fixed subsystem list)")
        }
        return replay
    }
}
