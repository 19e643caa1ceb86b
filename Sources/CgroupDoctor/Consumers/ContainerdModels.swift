import CgroupFormats
import SystemPackage

/// containerd's runtime v1 (`io.containerd.runtime.v1.linux`, the runtime Docker used up to 19.03)
/// loading the cgroup of a task's process: `cgroups.Load(cgroups.V1, cgroups.PidPath(pid))`.
///
/// Follows containerd 1.6.20 as packaged by Debian 12 (`runtime/v1/linux/task.go`: `newTask` at
/// create and `(*Task).Start` return every error except `ErrCgroupDeleted`) built with
/// containerd/cgroups v1.0.4 (see ``ContainerdCgroupsV1`` for the files and rules). Fatal: the
/// error goes back over gRPC and `ctr`/dockerd print it with `: unknown` appended.
///
/// Order of `Load`, each step replayed here:
/// 1. `V1()`: `v1MountPoint` takes `filepath.Dir` of the first fstype-`cgroup` mount point in
///    containerd's own /proc/self/mountinfo (none: "cgroups: cgroup mountpoint does not exist", the
///    v2-only-host message), then keeps the `defaults` subsystems whose `<root>/<name>` exists.
/// 2. `PidPath(pid)`: every key of /proc/<pid>/cgroup, named hierarchies included, needs an
///    fstype-`cgroup` line carrying it as an exact super-option token; the first miss returns
///    the bare sentinel "cgroups: cannot find cgroup mount destination", which names nothing.
///    A path outside the mount root becomes `Join("/", Rel(root, path))` silently; a path equal to
///    the root becomes the root itself (`Rel == "."` → `dest`).
/// 3. Per subsystem: `ErrControllerNotActive` and a missing `<root>/<name>/<path>` are skipped;
///    none left is `ErrCgroupDeleted`, which the runtime tolerates (the task has no cgroup).
///
/// containerd reads its own mount namespace, not the process's: the model reads
/// `/proc/<runtimePID>/mountinfo` (PID 1's by default, where containerd normally runs).
/// Verified against the real containerd 1.6.20 here (LiveKernelTests/ContainerdGroundTruthTests).
public struct ContainerdV1Model: ConsumerModel {
    /// The process whose mount namespace containerd runs in.
    /// The process whose mount namespace the runtime runs in; nil: the input's `--runtime-pid`.
    public var runtimePID: Int32?

    public init(runtimePID: Int32? = nil) { self.runtimePID = runtimePID }

    public var id: String { "containerd-v1" }
    public var name: String { "containerd 1.6 runtime v1 (io.containerd.runtime.v1.linux)" }
    public var version: String {
        "containerd 1.6.20 (Debian 12) runtime/v1/linux/task.go; containerd/cgroups v1.0.4 paths.go PidPath/existingPath, utils.go getCgroupDestination, v1.go, cgroup.go Load"
    }
    public var verifiedAgainstBinary: Bool { true }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var replay = ContainerdLoadReplay(process, runtimePID: runtimePID ?? process.runtimePID)
        replay.runV1()
        var error: String?
        switch replay.outcome {
        case .failed(let message):
            error = message
            replay.note("fatal in io.containerd.runtime.v1.linux: task create/start returns it, and ctr/dockerd print \"\(message): unknown\"")
        case .deleted:
            replay.note("tolerated: runtime v1 ignores ErrCgroupDeleted; the task runs without a cgroup (no stats, no OOM events)")
        case .loaded, .none:
            break
        }
        return replay.view(self, error: error)
    }
}

/// containerd's runc v2 shim (`io.containerd.runc.v2`, the default since containerd 1.4 and Docker
/// 20.10) loading the same cgroup, where a failure is only logged.
///
/// Follows containerd 1.6.20 (Debian 12) `runtime/v2/runc/container.go` `NewContainer`:
/// `cgroups.Mode() == Unified` → `cgroupsv2.PidGroupPath(pid)` + `LoadManager("/sys/fs/cgroup", g)`,
/// logging "loading cgroup2 for <pid>"; otherwise the same `cgroups.Load(cgroups.V1,
/// cgroups.PidPath(pid))` as runtime v1, logging "loading cgroup for <pid>". The container runs
/// either way, without cgroup stats. `Mode()` is a statfs of /sys/fs/cgroup; the model decides it
/// from the mountinfo (the last mount at /sys/fs/cgroup) so captures replay.
/// Verified against the real shim here (the log line, LiveKernelTests/ContainerdGroundTruthTests).
public struct ContainerdRuncV2Model: ConsumerModel {
    /// The process whose mount namespace the runtime runs in; nil: the input's `--runtime-pid`.
    public var runtimePID: Int32?

    public init(runtimePID: Int32? = nil) { self.runtimePID = runtimePID }

    public var id: String { "containerd-runc-v2" }
    public var name: String { "containerd 1.6 runc v2 shim (io.containerd.runc.v2)" }
    public var version: String {
        "containerd 1.6.20 (Debian 12) runtime/v2/runc/container.go NewContainer; containerd/cgroups v1.0.4 (v1 Load, v2/paths.go PidGroupPath, v2/manager.go LoadManager)"
    }
    public var verifiedAgainstBinary: Bool { true }

    public func predict(_ process: ConsumerInput) -> ConsumerView {
        var replay = ContainerdLoadReplay(process, runtimePID: runtimePID ?? process.runtimePID)
        if replay.mode == .unified {
            replay.runV2()
        } else {
            replay.runV1()
        }
        if case .failed(let message) = replay.outcome {
            let what = replay.mode == .unified ? "loading cgroup2 for \(process.pid)" : "loading cgroup for \(process.pid)"
            replay.note("not fatal: the shim logs level=error msg=\"\(what)\" error=\"\(message)\" and runs the container without cgroup stats")
        }
        return replay.view(self, error: nil)
    }
}

/// The steps both containerd models share, with what they read and why they stop.
struct ContainerdLoadReplay {
    enum Outcome: Equatable {
        /// Subsystem name -> directory, in `defaults` order.
        case loaded([String: String])
        case deleted
        case failed(String)
    }

    let input: ConsumerInput
    let runtimePID: Int32
    /// Where containerd's own path lookups land (its mount namespace), see ``RuntimeView``.
    let runtimeSysroot: Sysroot
    private(set) var files: [String] = []
    private(set) var notes: [String] = []
    private(set) var outcome: Outcome?
    /// The directory it uses for `cpu` (`<root>/cpu/<path>`), or the cgroup2 directory.
    private(set) var cpuDirectory: String?
    /// containerd's /proc/self/mountinfo, split as `bufio.Scanner` does.
    private(set) var mountInfoLines: [String] = []
    private(set) var mountInfoFile: String
    let mode: CgroupMode

    init(_ input: ConsumerInput, runtimePID: Int32) {
        self.input = input
        self.runtimePID = runtimePID
        let (runtimeSysroot, viewNote) = RuntimeView.sysroot(input, runtimePID: runtimePID)
        self.runtimeSysroot = runtimeSysroot
        let runtimeFile = "/proc/\(runtimePID)/mountinfo"
        var fallbackNote: String?
        if let bytes = try? runtimeSysroot.read(FilePath(runtimeFile)) {
            mountInfoFile = runtimeFile
            mountInfoLines = ContainerdCgroupsV1.scanLines(bytes)
        } else if let bytes = try? input.sysroot.read(FilePath(input.mountInfo.file)) {
            // A capture of one process only: its own view is the best stand-in for containerd's.
            mountInfoFile = input.mountInfo.file
            mountInfoLines = ContainerdCgroupsV1.scanLines(bytes)
            fallbackNote = "\(runtimeFile) unreadable: used \(input.mountInfo.file) as containerd's /proc/self/mountinfo"
        } else {
            mountInfoFile = runtimeFile
            fallbackNote = "\(runtimeFile) unreadable: containerd's mount table is unknown, replayed as empty"
        }
        mode = Self.detectMode(mountInfoLines)
        notes.append("containerd reads /proc/self/mountinfo in its own mount namespace: \(mountInfoFile)")
        if let fallbackNote { notes.append(fallbackNote) }
        if let viewNote { notes.append(viewNote) }
    }

    mutating func note(_ text: String) { notes.append(text) }

    func view(_ model: some ConsumerModel, error: String?) -> ConsumerView {
        var notes = self.notes
        notes.append("container runtimes do not compute a CPU count or a memory limit")
        return ConsumerView(
            consumer: model.id, name: model.name, version: model.version, verifiedAgainstBinary: model.verifiedAgainstBinary,
            cpuCount: nil, memory: .notComputed, mount: cpuDirectory, files: files, error: error, notes: notes)
    }

    /// `cgroups.Mode()`: statfs("/sys/fs/cgroup") is cgroup2 → unified; else hybrid when
    /// /sys/fs/cgroup/unified is cgroup2. The last mount at a path is the one statfs reaches.
    static func detectMode(_ lines: [String]) -> CgroupMode {
        func fileSystem(at mountPoint: String) -> String? {
            var found: String?
            for text in lines {
                let fields = text.split(separator: " ", omittingEmptySubsequences: false)
                if fields.count >= 10, fields[4] == mountPoint { found = String(fields[fields.count - 3]) }
            }
            return found
        }
        if fileSystem(at: "/sys/fs/cgroup") == "cgroup2" { return .unified }
        return fileSystem(at: "/sys/fs/cgroup/unified") == "cgroup2" ? .hybrid : .legacy
    }

    /// `cgroups.Load(cgroups.V1, cgroups.PidPath(pid))`.
    mutating func runV1() {
        let pid = input.pid
        let cgroupFile = "/proc/\(pid)/cgroup"
        files.append(mountInfoFile)

        // 1. hierarchy(): V1().
        let root: String
        switch ContainerdCgroupsV1.v1MountPoint(mountInfoLines: mountInfoLines) {
        case .failure(let error):
            note("V1(): v1MountPoint found no fstype-cgroup line in \(mountInfoFile) (\(mode == .unified ? "a cgroup v2-only host" : "no cgroup v1 mount")): \(error)")
            outcome = .failed(error.message)
            noteUnmountedBehindV1Failure()
            return
        case .success(let found):
            root = found.root
            note("V1(): cgroup root \(root) (filepath.Dir of the first cgroup mount, \(mountInfoFile):\(found.line))")
        }
        let probe = DirectoryProbe(sysroot: runtimeSysroot, root: root)
        var subsystems = ContainerdCgroupsV1.defaultSubsystems
        if (try? runtimeSysroot.listDirectory("/sys/kernel/mm/hugepages")) == nil { subsystems.removeAll { $0 == "hugetlb" } }
        var enabled: [String] = []
        var unknown: [String] = []
        for name in subsystems {
            switch probe.exists(GoPath.join(root, name)) {
            case true?: enabled.append(name)
            case false?: continue
            case nil:
                enabled.append(name)
                unknown.append(name)
            }
        }
        if !unknown.isEmpty {
            note("\(root) cannot be listed in this capture: assumed \(unknown.joined(separator: ", ")) exist under it")
        }
        if enabled.isEmpty {
            note("V1(): none of \(subsystems.joined(separator: ", ")) exists under \(root): Load checks nothing and returns ErrCgroupDeleted")
            outcome = .deleted
            return
        }

        // 2. PidPath(pid), evaluated before Load and consulted on the first subsystem.
        files.insert(cgroupFile, at: 0)
        let cgroupBytes: [UInt8]
        do {
            cgroupBytes = try input.sysroot.read(FilePath(cgroupFile))
        } catch {
            if error.isNotFound {
                note("\(cgroupFile) is gone (the process exited): the wrapped ENOENT makes Load return ErrCgroupDeleted")
                outcome = .deleted
            } else {
                outcome = .failed("parse cgroup file \(cgroupFile): \(error)")
            }
            return
        }
        let keys: [ContainerdCgroupsV1.CgroupKey]
        switch ContainerdCgroupsV1.parseCgroupFile(cgroupBytes) {
        case .failure(let error):
            outcome = .failed("parse cgroup file \(cgroupFile): \(error)")
            return
        case .success(let parsed):
            keys = parsed.keys
        }
        let existing = ContainerdCgroupsV1.existingPath(keys, mountInfoLines: mountInfoLines)
        if let error = existing.error {
            for key in existing.unmounted {
                note(
                    "hierarchy \(Self.hierarchyID(key.lineText)) (\(key.key)), \(cgroupFile):\(key.line) \"\(key.lineText)\", has no fstype-cgroup line in \(mountInfoFile) carrying the super option \(key.key): getCgroupDestination(\"\(key.key)\") returns \"\(error)\", which does not name it"
                )
            }
            if existing.unmounted.count > 1 {
                note("Go map order decides which of the \(existing.unmounted.count) unmounted keys containerd trips on first; the message is the same for all")
            }
            outcome = .failed(error)
            return
        }
        for (key, destination, result) in existing.atRoot {
            note("\(key.key): path \(key.path) equals the root of its mount (\(mountInfoFile):\(destination.line)); Rel == \".\" so containerd uses the root itself: \(result)")
        }
        for (key, destination, result) in existing.outsideRoot {
            note("\(key.key): path \(key.path) is outside the root \(destination.root) of its mount (\(mountInfoFile):\(destination.line)); containerd silently uses Join(\"/\", Rel(root, path)) = \(result), a different cgroup")
        }

        // 3. Load's per-subsystem loop.
        var active: [String: String] = [:]
        var skipped: [String] = []
        for name in enabled {
            guard case .success(let path) = ContainerdCgroupsV1.lookup(name, in: existing.paths) else {
                skipped.append("\(name) (not in \(cgroupFile): ErrControllerNotActive)")
                continue
            }
            let directory = GoPath.join(root, name, path)
            files.append(directory)
            if probe.exists(directory) == false {
                skipped.append("\(name) (\(directory) does not exist)")
                continue
            }
            active[name] = directory
            if name == "cpu" { cpuDirectory = directory }
        }
        if !skipped.isEmpty { note("skipped: \(skipped.joined(separator: "; "))") }
        if active.isEmpty {
            note("no subsystem directory left: Load returns ErrCgroupDeleted")
            outcome = .deleted
        } else {
            outcome = .loaded(active)
        }
    }

    /// When `V1()` already failed, `PidPath`'s verdict is never reached; say what it would be, so
    /// mounting a v1 hierarchy somewhere does not just trade one message for the sentinel.
    private mutating func noteUnmountedBehindV1Failure() {
        let cgroupFile = "/proc/\(input.pid)/cgroup"
        guard let bytes = try? input.sysroot.read(FilePath(cgroupFile)),
            case .success(let parsed) = ContainerdCgroupsV1.parseCgroupFile(bytes)
        else { return }
        let unmounted = ContainerdCgroupsV1.existingPath(parsed.keys, mountInfoLines: mountInfoLines).unmounted
        guard !unmounted.isEmpty else { return }
        let names = unmounted.map { "hierarchy \(Self.hierarchyID($0.lineText)) (\($0.key))" }
        note(
            "behind it, PidPath would fail too: \(names.joined(separator: ", ")) of \(cgroupFile) \(unmounted.count == 1 ? "has" : "have") no fstype-cgroup mount in \(mountInfoFile) (\"\(ContainerdCgroupsV1.errNoCgroupMountDestination)\")"
        )
    }

    /// `cgroupsv2.PidGroupPath(pid)` then `LoadManager("/sys/fs/cgroup", g)`.
    mutating func runV2() {
        let cgroupFile = "/proc/\(input.pid)/cgroup"
        files.append(cgroupFile)
        note("cgroups.Mode() is Unified (cgroup2 at /sys/fs/cgroup in \(mountInfoFile)): the v2 path, no mountinfo lookup")
        guard let bytes = try? input.sysroot.read(FilePath(cgroupFile)) else {
            outcome = .failed("open \(cgroupFile): no such file or directory")
            return
        }
        switch ContainerdCgroupsV2.groupPath(bytes) {
        case .failure(let error):
            outcome = .failed(error.message)
        case .success(let group):
            if let problem = ContainerdCgroupsV2.verifyGroupPath(group) {
                outcome = .failed(problem.message)
                return
            }
            let directory = GoPath.join("/sys/fs/cgroup", group)
            note("LoadManager: /sys/fs/cgroup joined with \(group), relative to no mount root (right only with a cgroup namespace)")
            cpuDirectory = directory
            files.append(directory)
            outcome = .loaded(["": directory])
        }
    }

    /// The hierarchy ID of a cgroup line (`12` of `12:name=cpu_mirror:/`), trimmed of the blanks
    /// containerd's own parser tolerates.
    static func hierarchyID(_ lineText: String) -> String {
        let id = lineText.prefix { $0 != ":" }
        return id.trimmingSpaces
    }
}

/// containerd/cgroups v1.0.4 `v2/paths.go` and `v2/utils.go`.
enum ContainerdCgroupsV2 {
    /// `parseCgroupFromReader`: the text after the first line whose fields are `0` and empty;
    /// a line with fewer than two colons is an error; none is "cgroup path not found".
    static func groupPath(_ bytes: [UInt8]) -> Result<String, GoError> {
        for text in ContainerdCgroupsV1.scanLines(bytes) {
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return .failure(GoError("invalid cgroup entry: \(ContainerdCgroupsV1.goQuote(text))")) }
            if parts[0] == "0" && parts[1].isEmpty { return .success(String(parts[2])) }
        }
        return .failure(GoError("cgroup path not found"))
    }

    /// `VerifyGroupPath`: absolute, already clean, not under /sys/fs/cgroup.
    static func verifyGroupPath(_ group: String) -> GoError? {
        if !group.hasPrefix("/") || GoPath.clean(group) != group || group.hasPrefix("/sys/fs/cgroup") {
            return GoError("cgroups: invalid group path")
        }
        return nil
    }
}

/// Container runtimes resolve paths in their own mount namespace, not the process's. Live,
/// ``ConsumerInputReader`` hands models the process's view (`/proc/<pid>/root`); the runtime's is
/// `/proc/<runtimePID>/root`, or cgdoctor's own namespace when that cannot be opened (PID 1 is
/// often protected; containerd normally shares the host namespace cgdoctor runs in). A capture is
/// read as it is.
enum RuntimeView {
    static func sysroot(_ input: ConsumerInput, runtimePID: Int32) -> (Sysroot, note: String?) {
        let root = input.sysroot.root.string
        guard root.hasPrefix("/proc/"), root.hasSuffix("/root") else { return (input.sysroot, nil) }
        let runtime = Sysroot(FilePath("/proc/\(runtimePID)/root"))
        if runtime.root == input.sysroot.root { return (input.sysroot, nil) }
        if (try? runtime.listDirectory("/")) != nil { return (runtime, nil) }
        return (.live, "/proc/\(runtimePID)/root cannot be opened: paths resolved in cgdoctor's own mount namespace instead")
    }
}

/// `os.Lstat(path)` succeeded or not, through the Sysroot: the parent directory is listed and the
/// name looked up (a symlink such as `cpu -> cpu,cpuacct` counts, as it does for Lstat). nil when
/// the capture has no cgroup root directory at all, so nothing can be said.
struct DirectoryProbe {
    let sysroot: Sysroot
    let root: String
    let rootListable: Bool

    init(sysroot: Sysroot, root: String) {
        self.sysroot = sysroot
        self.root = root
        rootListable = (try? sysroot.listDirectory(FilePath(root))) != nil
    }

    func exists(_ path: String) -> Bool? {
        let parent = GoPath.dir(path)
        let name = GoPath.base(path)
        if path == "/" { return true }
        if let names = try? sysroot.listDirectory(FilePath(parent)) { return names.contains(name) }
        return rootListable || sysroot.isLive ? false : nil
    }
}
