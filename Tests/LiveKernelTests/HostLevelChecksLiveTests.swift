#if os(Linux)
import Foundation
import Glibc
import Testing

/// The host-level checks (group A) against this machine: a hybrid host whose PID 1 is not systemd.
///
/// Facts are first read without cgdoctor (/proc/1/comm, /proc/self/cgroup, /proc/cgroups, the
/// cgroup2 root's cgroup.controllers), then the built binary must agree. The two staged views
/// (no cgroup2 mount; cgroup2 only) are made inside `unshare -m --propagation private`, so every
/// umount and mount vanishes with that namespace: nothing changes outside it, nothing is named.
@Suite(
    "Live host-level checks (root; private mount namespaces only)", .serialized,
    .enabled(if: Live.runnable, "needs root for unshare -m (set CI=true to fail instead of skipping)"))
struct HostLevelChecksLiveTests {
    /// `cgdoctor check --format json` on the live host.
    static func checkJSON(_ extra: [String] = []) throws -> CheckJSON {
        let run = try Live.startCgdoctor(["check", "--format", "json"] + extra).finish()
        #expect(run.status == 0 || run.status == 1, "\(run)")
        return try CheckJSON.decode(run)
    }

    /// `cgdoctor check --format json --runtime-pid <itself>` run inside a private mount namespace
    /// after `setup` (shell commands) changed that namespace's mounts.
    static func checkJSONInPrivateNamespace(setup: String) throws -> CheckJSON {
        let unshare = try Live.tool("/usr/bin/unshare", "/bin/unshare")
        let binary = try Live.cgdoctorBinary()
        // `exec` keeps the shell's pid, so $$ is cgdoctor itself: its namespace is the runtime's view.
        let script = "set -e; \(setup); exec '\(binary)' check --format json --runtime-pid $$"
        let run = try Spawned(unshare, ["-m", "--propagation", "private", "/bin/sh", "-c", script], environment: ["COLUMNS": "1000", "NO_COLOR": "1"])
            .finish()
        #expect(run.status == 0 || run.status == 1, "\(run)")
        return try CheckJSON.decode(run)
    }

    static var pid1IsSystemd: Bool { Live.commandName(1) == "systemd" }

    /// Controllers /proc/cgroups shows enabled at hierarchy 0 and the cgroup2 root does not list,
    /// minus perf_event (implicit on v2), computed without cgdoctor.
    static func unboundHere() -> [String]? {
        guard let cgroups = Live.read("/proc/cgroups"), let mountinfo = Live.read("/proc/self/mountinfo") else { return nil }
        guard let v2 = mountinfo.split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") }) else { return nil }
        let mountPoint = v2.split(separator: " ")[4]
        guard let listed = Live.read("\(mountPoint)/cgroup.controllers") else { return nil }
        let available = Set(listed.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        var unbound: [String] = []
        for line in cgroups.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 4, fields[1] == "0", fields[3] == "1" else { continue }
            let v2Name = fields[0] == "blkio" ? "io" : fields[0]
            if fields[0] == "perf_event" || available.contains(v2Name) { continue }
            if mountPoint == "/sys/fs/cgroup" && ["cpuacct", "devices", "freezer"].contains(fields[0]) { continue }
            unbound.append(fields[0])
        }
        return unbound
    }

    @Test func foreignSystemdHierarchyIsInfoWhenMounted() throws {
        try Live.exclusive {
            let cgroup = try #require(Live.read("/proc/1/cgroup"))
            let mountinfo = try #require(Live.read("/proc/1/mountinfo"))
            let listed = cgroup.contains(":name=systemd:")
            let mounted = mountinfo.split(separator: "\n").contains { $0.contains(" - cgroup ") && $0.hasSuffix("name=systemd") || $0.contains(",name=systemd,") }
            let report = try Self.checkJSON()
            let findings = report.findings.filter { $0.id == "systemd-hierarchy-foreign" }
            if Self.pid1IsSystemd || !listed {
                #expect(findings.isEmpty, "\(findings.map(\.summary))")
                return
            }
            let finding = try #require(findings.first, "PID 1 is \(Live.commandName(1) ?? "?") and name=systemd is listed")
            #expect(findings.count == 1)
            #expect(finding.severity == (mounted ? "info" : "warning"))
            #expect(finding.hierarchy?.name == "systemd")
            #expect(finding.summary.contains("PID 1 is \"\(Live.commandName(1) ?? "?")\""), "\(finding.summary)")
        }
    }

    @Test func hybridHostGetsEndOfLifeAndNoV2OnlyFinding() throws {
        try Live.exclusive {
            let mountinfo = try #require(Live.read("/proc/1/mountinfo"))
            let lines = mountinfo.split(separator: "\n")
            let v1 = lines.contains { $0.contains(" - cgroup ") }
            let v2AtRoot = lines.contains { $0.contains(" /sys/fs/cgroup ") && $0.contains(" - cgroup2 ") }
            let report = try Self.checkJSON()
            let ids = report.findings.map(\.id)
            #expect(ids.contains("v1-end-of-life") == (v1 && !v2AtRoot), "\(ids)")
            #expect(ids.contains("v1-consumers-on-v2-host") == (!v1 && v2AtRoot), "\(ids)")
            for finding in report.findings where ["v1-end-of-life", "v1-consumers-on-v2-host", "controller-unbound", "ghost-unified-line"].contains(finding.id) {
                #expect(finding.severity == "info", "\(finding.id) must stay info on a working host")
            }
        }
    }

    @Test func unboundControllersMatchProcCgroupsAndCgroupControllers() throws {
        try Live.exclusive {
            let expected = try #require(Self.unboundHere(), "no cgroup2 mount or unreadable /proc/cgroups")
            let report = try Self.checkJSON()
            let finding = report.findings.first { $0.id == "controller-unbound" }
            if expected.isEmpty {
                #expect(finding == nil)
            } else {
                let summary = try #require(finding?.summary, "expected controller-unbound for \(expected)")
                #expect(summary.contains(expected.joined(separator: ", ")), "\(summary)")
                #expect(!summary.contains("perf_event"), "perf_event is implicit on v2: \(summary)")
            }
        }
    }

    /// No cgroup2 mount in the runtime's namespace while every process still lists `0::/`.
    @Test func ghostUnifiedLineWhenCgroup2IsUnmountedInAPrivateNamespace() throws {
        try Live.exclusive {
            let mountinfo = try #require(Live.read("/proc/self/mountinfo"))
            let v2Mounts = mountinfo.split(separator: "\n").filter { $0.contains(" - cgroup2 ") }.map { String($0.split(separator: " ")[4]) }
            try #require(!v2Mounts.isEmpty, "this test needs a cgroup2 mount to hide")
            try #require(Live.read("/proc/self/cgroup")?.contains("\n0::") == true)
            let report = try Self.checkJSONInPrivateNamespace(setup: v2Mounts.map { "umount '\($0)'" }.joined(separator: "; "))
            let finding = try #require(report.findings.first { $0.id == "ghost-unified-line" }, "\(report.findings.map(\.id))")
            #expect(finding.severity == "info")
            #expect(finding.hierarchy?.id == 0)
            // Every other process still sees the mount in the initial namespace.
            let elsewhere = finding.mountedElsewhere ?? []
            #expect(!elsewhere.isEmpty)
            #expect(elsewhere.allSatisfy { v2Mounts.contains($0.mountPoint) }, "\(elsewhere.map(\.mountPoint))")
            // Unchanged outside the namespace.
            #expect(Live.read("/proc/self/mountinfo")?.contains(" - cgroup2 ") == true)
        }
    }

    /// cgroup2 alone at /sys/fs/cgroup (the v1 tree unmounted in a private namespace): a unified view.
    @Test func v2OnlyViewInAPrivateNamespace() throws {
        try Live.exclusive {
            let mountinfo = try #require(Live.read("/proc/self/mountinfo"))
            try #require(mountinfo.contains(" /sys/fs/cgroup "), "this test needs something mounted at /sys/fs/cgroup")
            let report = try Self.checkJSONInPrivateNamespace(
                setup: "umount -R /sys/fs/cgroup; mount -t cgroup2 cgroup2 /sys/fs/cgroup")
            #expect(report.host.cgroupMode == "unified")
            let finding = try #require(report.findings.first { $0.id == "v1-consumers-on-v2-host" }, "\(report.findings.map(\.id))")
            #expect(finding.severity == "info")
            #expect(!report.findings.contains { $0.id == "v1-end-of-life" })
            #expect(Live.read("/proc/self/mountinfo") == mountinfo || Live.read("/proc/self/mountinfo")?.contains(" - cgroup ") == true)
        }
    }
}
#endif
