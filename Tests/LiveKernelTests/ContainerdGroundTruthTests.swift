#if os(Linux)
import CgroupFormats
import Foundation
import Glibc
import SystemPackage
import Testing

@testable import CgroupDoctor

/// The container-runtime models against Debian's real containerd 1.6.20, its v1 shim, the runc v2
/// shim and runc 1.1.5, in the same cgroup layouts.
///
/// Each test starts a private containerd (root, state, gRPC and ttrpc sockets, v1 runc root and
/// opt dir under `/tmp/cgdoctor-test-ctrd-<hex>`, CRI and the snapshotters that cannot run here
/// disabled) and runs `ctr run --rm --rootfs <busybox-static dir>` in the containerd namespace
/// `cgdoctor-test-<hex>`, with a relative cgroupsPath `cgdoctor-test-<hex>-<n>` so runc creates
/// only new cgroups below the test's own (the memory one stays inside the test's memory cgroup).
/// Everything is torn down in a `defer`: tasks, stray `runc init` and shim processes (matched by
/// the temp dir or the cgroup tag), containerd, the container cgroups, runc v2's state dir
/// `/run/containerd/runc/<namespace>` (runc v2's root is not configurable from ctr) and the temp dir.
@Suite(
    "Real containerd ground truth (root; private containerd, cgdoctor-test-* hierarchies)", .serialized,
    .enabled(if: Live.runnable, "needs root to run containerd and mount cgroup hierarchies (set CI=true to fail instead of skipping)"))
struct ContainerdGroundTruthTests {
    static let sentinel = "cgroups: cannot find cgroup mount destination"

    /// Clean host: runtime v1 runs the container; the container's cgroups are where the runc model
    /// says runc puts a relative cgroupsPath; the containerd model predicts no error.
    @Test func cleanHostRuntimeV1RunsAndRuncPlacesTheContainerWhereTheModelSays() throws {
        try Live.exclusive {
            let containerd = try PrivateContainerd()
            defer { containerd.destroy() }

            let run = try containerd.run(runtime: "io.containerd.runtime.v1.linux", script: "cat /proc/self/cgroup")
            #expect(run.status == 0, "\(run)")
            #expect(run.stderr.isEmpty, "\(run)")

            // runc runs as a child of the shim, which containerd started: its own cgroups are containerd's.
            let input = try ConsumerInputReader(sysroot: .live).input(for: containerd.pid)
            let predicted = RuncCgroupsV1.replay(input, runtimePID: containerd.pid)
            #expect(predicted.error == nil, "\(predicted.notes)")
            let mounts = MountInfo.parse(try Sysroot.live.read("/proc/self/mountinfo"), file: "/proc/self/mountinfo").entries
            var compared = 0
            for line in run.stdout.split(separator: "\n") {
                let entry = try CgroupEntry.parse(Array(line.utf8), file: "container /proc/self/cgroup")
                if entry.isUnified { continue }
                for token in entry.controllers.map(\.rawValue) + (entry.name.map { ["name=\($0)"] } ?? []) {
                    guard let parent = predicted.directories[token] else { continue }
                    let mount = try #require(RuncCgroupsV1.findMountpointAndRoot(token, mounts: mounts))
                    let actual = RuncCgroupsV1.cgroupPath(mount: mount, cgroup: entry.path.string)
                    #expect(GoPath.join(parent, run.cgroupName) == actual, "\(token): container line \(line)")
                    compared += 1
                }
            }
            #expect(compared >= 8, "compared only \(compared) subsystems:\n\(run)")

            let view = ContainerdV1Model(runtimePID: containerd.pid).predict(input)
            #expect(view.error == nil, "\(view.notes)")
        }
    }

    /// A named hierarchy left unmounted with a live child: runtime v1 fails with exactly the
    /// sentinel; the runc v2 shim runs the container and only logs it; the models, the library and
    /// `cgdoctor explain` say the same, and `cgdoctor check` names the hierarchy.
    @Test func unmountedNamedHierarchyFailsRuntimeV1AndIsOnlyLoggedByRuncV2() throws {
        try Live.exclusive {
            let staged = try StagedHierarchy()
            let containerd = try PrivateContainerd()
            defer {
                containerd.destroy()
                let leftovers = staged.destroy()
                #expect(leftovers.isEmpty, "cleanup of \(staged.name) failed: \(leftovers)")
            }
            try staged.mount(creating: true)
            try staged.makeChild("child")
            let sleeper = try staged.spawnSleeper(into: "child")
            try staged.unmount()
            #expect(staged.isListed && !staged.isMountedHere)

            let v1 = try containerd.run(runtime: "io.containerd.runtime.v1.linux", script: "true")
            #expect(v1.status != 0, "\(v1)")
            #expect(v1.stderr == "ctr: \(Self.sentinel): unknown\n", "\(v1)")

            let v2 = try containerd.run(runtime: "io.containerd.runc.v2", script: "true")
            #expect(v2.status == 0, "\(v2)")
            let logged = try #require(
                containerd.logLines().first { $0.contains("msg=\"loading cgroup for ") && $0.contains("error=\"\(Self.sentinel)\"") },
                "containerd's log has no 'loading cgroup for' error:\n\(containerd.logLines().suffix(20).joined(separator: "\n"))")

            // Library: the models over a process that lists the hierarchy (every process does).
            let input = try ConsumerInputReader(sysroot: .live).input(for: sleeper)
            let containerdView = ContainerdV1Model(runtimePID: containerd.pid).predict(input)
            #expect(containerdView.error == Self.sentinel)
            #expect("ctr: \(containerdView.error ?? ""): unknown\n" == v1.stderr)
            let id = try #require(staged.line(of: "self")?.id)
            #expect(containerdView.notes.contains { $0.contains("hierarchy \(id) (name=\(staged.name))") }, "\(containerdView.notes)")
            let shimView = ContainerdRuncV2Model(runtimePID: containerd.pid).predict(input)
            #expect(shimView.error == nil)
            let shimNote = try #require(shimView.notes.first { $0.contains("level=error msg=") })
            // Same log fields as the real shim wrote, for the pid each is about.
            let loggedFields = try #require(logged.range(of: "msg=\"loading cgroup for ").map { String(logged[$0.lowerBound...]) })
            let loggedPID = loggedFields.dropFirst("msg=\"loading cgroup for ".count).prefix { $0.isNumber }
            #expect(
                shimNote.contains(loggedFields.replacingOccurrences(of: "for \(loggedPID)\"", with: "for \(sleeper)\"")
                    .components(separatedBy: " runtime=").first ?? "?"),
                "model: \(shimNote)\nlog: \(logged)")
            #expect(RuncModel(runtimePID: containerd.pid).predict(input).error == nil)

            // Binaries: explain (the catalogue's containerd-v1, PID 1's namespace = this one) and check.
            let explain = try Live.startCgdoctor(["explain", "\(sleeper)", "--consumer", "containerd-v1", "--format", "json"]).finish()
            let document = try JSONSerialization.jsonObject(with: Data(explain.stdout.utf8)) as? [String: Any]
            let consumer = try #require((document?["consumers"] as? [[String: Any]])?.first, "\(explain)")
            #expect(consumer["consumer"] as? String == "containerd-v1")
            #expect(consumer["error"] as? String == Self.sentinel, "\(explain)")
            #expect(explain.status == 1, "\(explain)")

            let check = try CheckJSON.decode(try Live.startCgdoctor(["check", "--format", "json"]).finish())
            #expect(check.findings.contains { $0.id == "hierarchy-not-mounted" && $0.hierarchy?.name == staged.name && $0.hierarchy?.id == id })
        }
    }

    /// Issue item 4, containerd side: the agent's `cpu_mirror` hierarchy, mounted, given children,
    /// unmounted. containerd's message names nothing; cgdoctor's notes name the hierarchy.
    @Test func cpuMirrorIncidentContainerdErrorNamesNothingCgdoctorNamesTheHierarchy() throws {
        try Live.exclusive {
            let staged = try NamedStaging(name: "cgdoctor-test-cpu_mirror-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
            let containerd = try PrivateContainerd()
            defer {
                containerd.destroy()
                let leftovers = staged.destroy()
                #expect(leftovers.isEmpty, "cleanup of \(staged.name) failed: \(leftovers)")
            }
            let agent = try staged.stage(child: "jobs/job-1")
            let line = try #require(staged.line(of: agent), "/proc/\(agent)/cgroup does not list name=\(staged.name)")
            #expect(line.path == "/jobs/job-1")

            let v1 = try containerd.run(runtime: "io.containerd.runtime.v1.linux", script: "true")
            #expect(v1.stderr == "ctr: \(Self.sentinel): unknown\n", "\(v1)")
            #expect(!v1.stderr.contains("cpu_mirror"))

            let explain = try Live.startCgdoctor(["explain", "\(agent)", "--consumer", "containerd-v1", "--format", "json"]).finish()
            let document = try JSONSerialization.jsonObject(with: Data(explain.stdout.utf8)) as? [String: Any]
            let consumer = try #require((document?["consumers"] as? [[String: Any]])?.first, "\(explain)")
            let error = try #require(consumer["error"] as? String, "\(explain)")
            #expect("ctr: \(error): unknown\n" == v1.stderr)
            #expect(!error.contains("cpu_mirror"))
            let notes = consumer["notes"] as? [String] ?? []
            #expect(notes.contains { $0.contains("hierarchy \(line.id) (name=\(staged.name))") && $0.contains("cpu_mirror") }, "\(notes)")
            let text = try Live.startCgdoctor(["explain", "\(agent)", "--consumer", "containerd-v1"]).finish()
            #expect(text.stdout.contains("name=\(staged.name)"), "\(text)")
        }
    }
}

// MARK: A private containerd

/// containerd with everything under one temp dir, started and torn down by one test.
final class PrivateContainerd {
    let directory: String
    let tag: String
    var socket: String { "\(directory)/containerd.sock" }
    var namespace: String { tag }
    var logPath: String { "\(directory)/containerd.log" }
    let rootfs: String
    private let daemon: Spawned
    private var runs = 0
    /// containerd creates /run/containerd/{fifo,runc,s} (shim v2 sockets and runc v2's root are
    /// not configurable from ctr); removed again, when empty, if this run created them.
    private let runDirectoryExisted = FileManager.default.fileExists(atPath: "/run/containerd")
    var pid: Int32 { daemon.pid }

    init() throws {
        tag = "cgdoctor-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        directory = "/tmp/\(tag.replacingOccurrences(of: "cgdoctor-test-", with: "cgdoctor-test-ctrd-"))"
        rootfs = "\(directory)/rootfs"
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: false)
        for sub in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
            try fm.createDirectory(atPath: "\(rootfs)/\(sub)", withIntermediateDirectories: true)
        }
        // busybox-static: one binary, its applets as symlinks (busybox --install -s, run inside the rootfs).
        let busybox = try Live.tool("/bin/busybox", "/usr/bin/busybox")
        try fm.copyItem(atPath: busybox, toPath: "\(rootfs)/bin/busybox")
        let install = try Spawned(try Live.tool("/usr/sbin/chroot", "/usr/bin/chroot"), [rootfs, "/bin/busybox", "--install", "-s", "/bin"]).finish(timeout: 10)
        try #require(install.status == 0 && fm.fileExists(atPath: "\(rootfs)/bin/sh"), "busybox --install: \(install)")
        let socket = "\(directory)/containerd.sock"
        let logPath = "\(directory)/containerd.log"
        let config = """
            version = 2
            root = "\(directory)/root"
            state = "\(directory)/state"
            # CRI needs a CNI setup, the others need btrfs/zfs/aufs/devmapper: none of it is used here.
            disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
            [grpc]
              address = "\(socket)"
            [ttrpc]
              address = "\(socket).ttrpc"
            [plugins."io.containerd.internal.v1.opt"]
              path = "\(directory)/opt"
            [plugins."io.containerd.runtime.v1.linux"]
              runtime_root = "\(directory)/runc-v1"
            """
        try config.write(toFile: "\(directory)/config.toml", atomically: false, encoding: .utf8)
        let containerd = try Live.tool("/usr/bin/containerd", "/usr/sbin/containerd")
        daemon = try Spawned("/bin/sh", ["-c", "exec \(containerd) --config \(directory)/config.toml >\(logPath) 2>&1"])
        let deadline = Date().addingTimeInterval(10)
        while !(logLines().contains { $0.contains("containerd successfully booted") }) {
            if !daemon.isRunning || Date() > deadline {
                let log = logLines().suffix(30).joined(separator: "\n")
                destroy()
                throw StagingError("containerd did not start within 10 s:\n\(log)", 0)
            }
            usleep(20_000)
        }
    }

    struct Run: CustomStringConvertible {
        var cgroupName: String
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "ctr run (\(cgroupName)) exited \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)" }
    }

    /// `ctr run --rm --runtime R --cgroup <relative> --rootfs DIR ID /bin/sh -c SCRIPT`.
    func run(runtime: String, script: String) throws -> Run {
        runs += 1
        let name = "\(tag)-\(runs)"
        let ctr = try Live.tool("/usr/bin/ctr", "/usr/sbin/ctr")
        let finished = try Spawned(
            ctr, ["--address", socket, "--namespace", namespace, "run", "--rm", "--runtime", runtime, "--cgroup", name, "--rootfs", rootfs, name, "/bin/sh", "-c", script]
        ).finish(timeout: 20)
        return Run(cgroupName: name, status: finished.status, stdout: finished.stdout, stderr: finished.stderr)
    }

    func logLines() -> [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").components(separatedBy: "\n")
    }

    /// Never throws; records what could not be cleaned.
    func destroy() {
        // Containers first (a failed runtime-v1 create leaves `runc init` behind), while containerd still answers.
        if daemon.isRunning, let ctr = try? Live.tool("/usr/bin/ctr", "/usr/sbin/ctr") {
            for index in 0...runs {
                let id = "\(tag)-\(index)"
                _ = try? Spawned(ctr, ["--address", socket, "--namespace", namespace, "task", "delete", "--force", id]).finish(timeout: 10)
                _ = try? Spawned(ctr, ["--address", socket, "--namespace", namespace, "container", "delete", id]).finish(timeout: 10)
            }
        }
        daemon.terminate()
        // Stray shims (their command line names our socket or dir) and processes in our cgroups.
        for _ in 0..<20 {
            let strays = Self.processes { pid in
                let commandLine = (Live.read("/proc/\(pid)/cmdline") ?? "").replacingOccurrences(of: "\0", with: " ")
                let cgroup = Live.read("/proc/\(pid)/cgroup") ?? ""
                return commandLine.contains(self.directory) || cgroup.contains("/\(self.tag)-")
            }
            if strays.isEmpty { break }
            for pid in strays { kill(pid, SIGKILL) }
            usleep(50_000)
        }
        // The container cgroups runc created (relative to this process's cgroups), deepest first.
        var cgroups: [String] = []
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let base = "/sys/fs/cgroup/\(hierarchy)"
            guard let enumerator = FileManager.default.enumerator(atPath: base) else { continue }
            while let relative = enumerator.nextObject() as? String {
                if relative.components(separatedBy: "/").count > 4 { enumerator.skipDescendants(); continue }
                if (relative as NSString).lastPathComponent.hasPrefix("\(tag)-") { cgroups.append("\(base)/\(relative)") }
            }
        }
        for path in cgroups.sorted(by: { $0.count > $1.count }) {
            var removed = false
            for _ in 0..<40 {
                if rmdir(path) == 0 || errno == ENOENT {
                    removed = true
                    break
                }
                usleep(50_000)
            }
            if !removed { Issue.record("rmdir(\(path)): \(String(cString: strerror(errno)))") }
        }
        // Mounts a shim may have left under the dir (rootfs bind mounts), then the dir itself.
        let mounted = (Live.read("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].hasPrefix(directory) ? String(fields[4]) : nil
        }
        for mountPoint in mounted.sorted(by: { $0.count > $1.count }) { umount2(mountPoint, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: "/run/containerd/runc/\(namespace)")
        if !runDirectoryExisted {
            for sub in ["fifo", "runc", "s", ""] { rmdir("/run/containerd/\(sub)") }
        }
        do { try FileManager.default.removeItem(atPath: directory) } catch { Issue.record("removing \(directory): \(error)") }
    }

    static func processes(where matches: (Int32) -> Bool) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter {
            $0 != getpid() && matches($0)
        }
    }
}

// MARK: A named hierarchy whose name is chosen (StagedHierarchy picks a random one)

/// `cgdoctor-test-cpu_mirror-<hex>`: mounted with `none,name=`, a child with a live sleeper,
/// unmounted, so the kernel keeps listing it; destroyed as StagedHierarchy does (research §4.6).
final class NamedStaging {
    let name: String
    let mountPoint: String
    private var sleeper: Spawned?

    init(name: String) throws {
        self.name = name
        mountPoint = "/tmp/\(name)"
        guard mkdir(mountPoint, 0o700) == 0 else { throw StagingError("mkdir(\(mountPoint))", errno) }
    }

    /// Mounts, makes `child` (nested), puts a sleeper in it, unmounts. Returns the sleeper's pid.
    func stage(child: String) throws -> Int32 {
        guard mount("cgroup", mountPoint, "cgroup", 0, "none,name=\(name)") == 0 else {
            throw StagingError("mount -t cgroup -o none,name=\(name)", errno)
        }
        var path = mountPoint
        for component in child.split(separator: "/") {
            path += "/\(component)"
            guard mkdir(path, 0o755) == 0 else { throw StagingError("mkdir(\(path))", errno) }
        }
        let process = try Spawned(try Live.tool("/bin/sleep", "/usr/bin/sleep"), ["300"])
        sleeper = process
        try StagedHierarchy.writePID(process.pid, to: "\(path)/cgroup.procs")
        guard umount2(mountPoint, 0) == 0 else { throw StagingError("umount(\(mountPoint))", errno) }
        return process.pid
    }

    func line(of pid: Int32) -> (id: Int, path: String)? {
        for line in (Live.read("/proc/\(pid)/cgroup") ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if fields.count == 3, fields[1] == "name=\(name)", let id = Int(fields[0]) { return (id, String(fields[2])) }
        }
        return nil
    }

    var isListed: Bool { line(of: getpid()) != nil }
    var isMountedHere: Bool { StagedHierarchy.mountLine(in: Live.read("/proc/self/mountinfo") ?? "", name: name, at: mountPoint) != nil }

    func destroy(timeout: TimeInterval = 8) -> [String] {
        sleeper?.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        var lastError = "none"
        while isListed || isMountedHere {
            if Date() > deadline { return ["hierarchy \(name) still listed after \(timeout) s (last error: \(lastError))"] }
            // name= only: re-attaches, never creates.
            if !isMountedHere && mount("cgroup", mountPoint, "cgroup", 0, "name=\(name)") != 0 {
                lastError = "mount: \(String(cString: strerror(errno)))"
                usleep(50_000)
                continue
            }
            var directories: [String] = []
            if let enumerator = FileManager.default.enumerator(atPath: mountPoint) {
                while let relative = enumerator.nextObject() as? String {
                    var isDirectory: ObjCBool = false
                    let full = "\(mountPoint)/\(relative)"
                    if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue { directories.append(full) }
                }
            }
            for directory in directories.sorted(by: { $0.count > $1.count }) where rmdir(directory) != 0 {
                lastError = "rmdir(\(directory)): \(String(cString: strerror(errno)))"
            }
            if umount2(mountPoint, 0) != 0 { lastError = "umount: \(String(cString: strerror(errno)))" }
            if isListed { usleep(50_000) }
        }
        if rmdir(mountPoint) != 0 && errno != ENOENT { return ["rmdir(\(mountPoint)): \(String(cString: strerror(errno)))"] }
        return []
    }
}
#endif
