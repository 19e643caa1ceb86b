#if os(Linux)
import CgroupDoctor
import Foundation
import Glibc
import Testing

/// The mount-shape checks (path-outside-mount-root, substring-collision, duplicate-hierarchy-mount)
/// against real mounts. Every mount-table change happens inside `unshare -m --propagation private`
/// held by a `sleep`, so it vanishes with that process; hierarchies are `cgdoctor-test-*` with no
/// controllers; everything is torn down in `defer`, and the kernel is checked to have let go.
@Suite(
    "Live mount shapes (root; stages cgdoctor-test-* hierarchies in private mount namespaces)", .serialized,
    .enabled(if: Live.runnable, "needs root to mount cgroup hierarchies (set CI=true to fail instead of skipping)"))
struct MountShapeLiveTests {
    /// `unshare -m --propagation private sh -c '<script> && exec sleep 300'`, returned once its
    /// mountinfo satisfies `ready` and it has exec'd sleep.
    static func holder(_ script: String, ready: (String) -> Bool) throws -> Spawned {
        let unshare = try Live.tool("/usr/bin/unshare", "/bin/unshare")
        let holder = try Spawned(unshare, ["-m", "--propagation", "private", "/bin/sh", "-c", "\(script) && exec sleep 300"])
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if Live.commandName(holder.pid) == "sleep", let mounts = Live.read("/proc/\(holder.pid)/mountinfo"), ready(mounts) {
                return holder
            }
            if !holder.isRunning { break }
            usleep(10_000)
        }
        let result = holder.isRunning ? "still starting" : "\(holder.finish(timeout: 1))"
        holder.terminate()
        throw StagingError("`\(holder.command)` did not become ready within 5 s: \(result)", 0)
    }

    static func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o700) == 0 else { throw StagingError("mkdir(\(path))", errno) }
    }

    /// A process moved to a sibling cgroup after its namespace bind-mounted its old cgroup (the
    /// garden good/bad move of JDK-8343191): outside the root in its own namespace, fine in the host's.
    @Test func processOutsideItsNamespacesMountRoot() throws {
        try Live.exclusive {
            let staged = try StagedHierarchy()
            let view = "\(staged.mountPoint)-view"
            var holder: Spawned?
            defer {
                holder?.terminate()
                let leftovers = staged.destroy()
                #expect(leftovers.isEmpty, "cleanup of \(staged.name) failed: \(leftovers)")
                if rmdir(view) != 0 && errno != ENOENT { Issue.record("rmdir(\(view)): \(String(cString: strerror(errno)))") }
            }
            try staged.mount(creating: true)
            try staged.makeChild("good")
            try staged.makeChild("bad")
            try Self.makeDirectory(view)
            let started = try Self.holder("mount --bind \(staged.mountPoint)/good \(view) && umount \(staged.mountPoint)") {
                $0.contains(" /good \(view) ")
            }
            holder = started
            try StagedHierarchy.writePID(started.pid, to: "\(staged.mountPoint)/bad/cgroup.procs")
            let line = try #require(staged.line(of: "\(started.pid)"))
            #expect(line.path == "/bad")
            let namespace = try #require(Live.readLink("/proc/\(started.pid)/ns/mnt"))

            let binary = try Live.startCgdoctor(["check", "--format", "json"])
            let fromHolder = try Live.startCgdoctor(["check", "--format", "json", "--runtime-pid", "\(started.pid)"])
            let report = try Diagnosis.check(HostScanner())
            let finding = try #require(
                report.findings.first { $0.id == "path-outside-mount-root" && $0.hierarchy?.name == staged.name },
                "no path-outside-mount-root for \(staged.name): \(report.findings.map(\.summary))")
            #expect(finding.severity == .warning)
            #expect(finding.hierarchy?.id == line.id)
            #expect(finding.affected.contains { $0.pid == started.pid && $0.cgroupPath == "/bad" }, "\(finding.affected)")
            #expect(finding.summary.contains(namespace) && !finding.summary.contains("the runtime's"), "\(finding.summary)")
            // containerd's Join("/", Rel("/good", "/bad")) and runc's Join(view, "../bad").
            #expect(finding.impacts.contains { $0.effect.contains("wrong cgroup /bad ") }, "\(finding.impacts)")
            #expect(finding.impacts.contains { $0.effect.contains("to /tmp/bad ") }, "\(finding.impacts)")
            #expect(!report.findings.contains { $0.id == "hierarchy-not-mounted" && $0.hierarchy?.name == staged.name })

            let run = binary.finish()
            let document = try CheckJSON.decode(run)
            let reported = try #require(
                document.findings.first { $0.id == "path-outside-mount-root" && $0.hierarchy?.name == staged.name }, "\(run)")
            #expect(reported.severity == "warning")
            #expect(reported.affected.contains { $0.pid == started.pid && $0.cgroupPath == "/bad" && $0.comm == "sleep" })

            // With the holder's namespace as the runtime's, the same finding says so.
            let holderRun = fromHolder.finish()
            let holderDocument = try CheckJSON.decode(holderRun)
            let asRuntime = try #require(
                holderDocument.findings.first { $0.id == "path-outside-mount-root" && $0.hierarchy?.name == staged.name }, "\(holderRun)")
            #expect(asRuntime.summary.contains("(the runtime's)"), "\(asRuntime.summary)")
        }
    }

    /// A named hierarchy whose name contains "cpu", mounted (last) in a private namespace: the
    /// pre-fix HotSpot chain takes it for the cpu controller there.
    @Test func namedHierarchyContainingCpuCollides() throws {
        try Live.exclusive {
            let name = "cgdoctor-test-cpu" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let mountPoint = "/tmp/\(name)"
            try Self.makeDirectory(mountPoint)
            var holder: Spawned?
            defer {
                holder?.terminate()
                #expect(Self.destroyChildless(name: name, mountPoint: mountPoint).isEmpty)
            }
            let started = try Self.holder("mount -t cgroup -o none,name=\(name) cgroup \(mountPoint)") {
                $0.contains("name=\(name)")
            }
            holder = started
            let report = try Diagnosis.check(HostScanner())
            let finding = try #require(
                report.findings.first { $0.id == "substring-collision" && $0.hierarchy?.name == name },
                "no substring-collision for \(name): \(report.findings.map(\.summary))")
            #expect(finding.severity == .warning)
            #expect(finding.summary.contains("for the cpu controller"), "\(finding.summary)")
            #expect(finding.affected.contains { $0.pid == started.pid }, "\(finding.affected)")
            #expect(!finding.hostWide, "only the private namespace mounts it")
            // This machine's own cpu and cpuacct mounts are exact: no other collision.
            #expect(report.findings.filter { $0.id == "substring-collision" }.count == 1, "\(report.findings.map(\.summary))")
        }
    }

    /// The staged hierarchy mounted twice in one namespace: same root → info; a subdirectory bind
    /// listed first plus a /sys/fs/cgroup/<name> mount (on a private tmpfs) → different roots, but
    /// only containerd looks a named hierarchy up → still info, naming the root containerd takes.
    @Test func duplicateMountsOfANamedHierarchyAreInfo() throws {
        try Live.exclusive {
            let staged = try StagedHierarchy()
            let second = "\(staged.mountPoint)-second"
            var holders: [Spawned] = []
            defer {
                for holder in holders { holder.terminate() }
                let leftovers = staged.destroy()
                #expect(leftovers.isEmpty, "cleanup of \(staged.name) failed: \(leftovers)")
                if rmdir(second) != 0 && errno != ENOENT { Issue.record("rmdir(\(second)): \(String(cString: strerror(errno)))") }
            }
            try staged.mount(creating: true)
            try staged.makeChild("sub")
            try Self.makeDirectory(second)
            let line = try #require(staged.line(of: "self"))

            let same = try Self.holder("mount -t cgroup -o name=\(staged.name) cgroup \(second)") { $0.contains(" \(second) ") }
            holders.append(same)
            var report = try Diagnosis.check(HostScanner())
            let info = try #require(
                report.findings.first { $0.id == "duplicate-hierarchy-mount" && $0.hierarchy?.name == staged.name },
                "\(report.findings.map(\.summary))")
            #expect(info.severity == .info)
            #expect(info.summary.contains("mounted 2 times") && info.summary.contains("all with root /"), "\(info.summary)")
            same.terminate()

            let script = "mount --bind \(staged.mountPoint)/sub \(second) && umount \(staged.mountPoint)"
                + " && mount -t tmpfs cgdoctor-test-tmpfs /sys/fs/cgroup && mkdir /sys/fs/cgroup/\(staged.name)"
                + " && mount -t cgroup -o name=\(staged.name) cgroup /sys/fs/cgroup/\(staged.name)"
            let split = try Self.holder(script) { $0.contains(" /sys/fs/cgroup/\(staged.name) ") }
            holders.append(split)
            report = try Diagnosis.check(HostScanner())
            let warning = try #require(
                report.findings.first { $0.id == "duplicate-hierarchy-mount" && $0.hierarchy?.name == staged.name },
                "\(report.findings.map(\.summary))")
            // Different roots, but of the modelled consumers only containerd looks a named hierarchy up
            // (runc never does, the JDK and Go only look at controllers): nothing disagrees, still info.
            // A warning needs a controller hierarchy with a subdirectory, which these tests never create.
            #expect(warning.severity == .info, "\(warning.summary)")
            #expect(warning.hierarchy?.id == line.id)
            #expect(warning.summary.contains("with roots /, /sub"), "\(warning.summary)")
            #expect(warning.impacts.contains { $0.consumer.hasPrefix("containerd") && $0.effect.contains("(root /sub,") }, "\(warning.impacts)")
            #expect(warning.impacts.contains { $0.consumer.hasPrefix("runc") && $0.effect.contains("never looks up") }, "\(warning.impacts)")
        }
    }

    /// Kills nothing; unmounts and waits until a childless hierarchy is gone from /proc/self/cgroup
    /// (its last mount went with the holder's namespace; destruction is asynchronous, and a
    /// re-attach by name followed by umount finishes it). Removes the mount point.
    static func destroyChildless(name: String, mountPoint: String) -> [String] {
        func listed() -> Bool { Live.read("/proc/self/cgroup")?.contains(":name=\(name):") ?? false }
        let deadline = Date().addingTimeInterval(8)
        while listed() && Date() < deadline {
            if Glibc.mount("cgroup", mountPoint, "cgroup", 0, "name=\(name)") == 0 { umount2(mountPoint, 0) }
            usleep(50_000)
        }
        var failures: [String] = []
        if listed() { failures.append("name=\(name) still listed in /proc/self/cgroup after 8 s") }
        if rmdir(mountPoint) != 0 && errno != ENOENT { failures.append("rmdir(\(mountPoint)): \(String(cString: strerror(errno)))") }
        return failures
    }
}
#endif
