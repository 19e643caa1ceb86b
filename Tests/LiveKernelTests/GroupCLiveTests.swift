#if os(Linux)
import CgroupDoctor
import Foundation
import Glibc
import Testing

/// Live tests of the group C checks (`release-agent-set`, `dying-cgroups`) on this machine.
///
/// Staging: a named hierarchy `cgdoctor-test-<random>` of our own (release agent), and child
/// cgroups `cgdoctor-test-<random>/c<N>` under the pids hierarchy root (dying cgroups): the brief
/// allows our own children there, nothing existing is written. Everything is removed in a `defer`.
@Suite(
    "Live kernel, group C checks (root; stages cgdoctor-test-* cgroups)", .serialized,
    .enabled(if: Live.runnable, "needs root to mount cgroup hierarchies and create cgroups (set CI=true to fail instead of skipping)"))
struct GroupCLiveTests {
    /// A release agent on our own named hierarchy is reported (warning: not systemd's, not in
    /// container storage), through the root file and mountinfo; clearing it with the remediation
    /// command makes the finding go away.
    @Test func releaseAgentOnOwnHierarchyIsReportedUntilCleared() throws {
        try Live.exclusive {
            let staged = try StagedHierarchy()
            defer {
                let leftovers = staged.destroy()
                #expect(leftovers.isEmpty, "cleanup of \(staged.name) failed: \(leftovers)")
            }
            try staged.mount(creating: true)
            let file = "\(staged.mountPoint)/release_agent"
            try GroupCLive.write("/bin/true\n", to: file)
            let line = try #require(staged.line(of: "self"), "/proc/self/cgroup does not list \(staged.name)")
            // The kernel prints the agent in the mount's super options.
            let mountinfo = Live.read("/proc/self/mountinfo") ?? ""
            #expect(mountinfo.contains("release_agent=/bin/true,name=\(staged.name)"), "\(mountinfo)")

            let checkJSON = try Live.startCgdoctor(["check", "--format", "json"])
            let report = try Diagnosis.check(HostScanner())
            let finding = try #require(
                report.findings.first { $0.id == "release-agent-set" && $0.hierarchy?.name == staged.name },
                "no release-agent-set for \(staged.name): \(report.findings.map(\.summary))")
            #expect(finding.severity == .warning)
            #expect(finding.hierarchy?.id == line.id)
            #expect(finding.evidence.first == Evidence(file: file, line: 1, text: "/bin/true"))
            #expect(finding.evidence.contains { $0.file.hasSuffix("/mountinfo") && $0.text.contains("release_agent=/bin/true") })
            let clear = try #require(finding.remediation.commands.first { $0.hasPrefix("echo > ") })

            let run = checkJSON.finish()
            let document = try CheckJSON.decode(run)
            let reported = try #require(
                document.findings.first { $0.id == "release-agent-set" && $0.hierarchy?.name == staged.name }, "\(run)")
            #expect(reported.severity == "warning")

            // The remediation command, run as printed, clears it.
            let shell = try Spawned("/bin/sh", ["-c", clear]).finish()
            #expect(shell.status == 0, "\(shell)")
            #expect((Live.read(file) ?? "x") == "\n" || Live.read(file) == "", "release_agent still \(Live.read(file) ?? "?")")
            let after = try Diagnosis.check(HostScanner())
            #expect(!after.findings.contains { $0.id == "release-agent-set" && $0.hierarchy?.name == staged.name })
        }
    }

    /// 1,100 child cgroups of the pids hierarchy each left dying by a zombie (rmdir succeeds once the
    /// only task is a zombie; the zombie's css_set keeps the cgroup until it is reaped). The scanner
    /// walks the hierarchy (num_cgroups >= 1000) and the check counts them; the shipped thresholds
    /// (10,000 / 60,000) are not reached, so only a lowered threshold reports it. On a shared
    /// 2-core machine 10,000 zombie processes are not stageable.
    @Test func zombiesKeepDyingPidsCgroupsCounted() throws {
        try Live.exclusive {
            let count = 1100
            let baseline = try #require(GroupCLive.pidsCount(), "/proc/cgroups has no pids line")
            let parent = "/sys/fs/cgroup/pids/cgdoctor-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            var zombies: [pid_t] = []
            var children: [String] = []
            defer {
                for child in children where rmdir(child) != 0 && errno != ENOENT {
                    Issue.record("rmdir(\(child)): \(String(cString: strerror(errno)))")
                }
                for pid in zombies {
                    var status: Int32 = 0
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                }
                var removed = false
                for _ in 0..<100 {
                    if rmdir(parent) == 0 || errno == ENOENT { removed = true; break }
                    usleep(50_000)
                }
                #expect(removed, "rmdir(\(parent)): \(String(cString: strerror(errno)))")
                var freed = false
                for _ in 0..<100 {
                    if let now = GroupCLive.pidsCount(), now <= baseline { freed = true; break }
                    usleep(50_000)
                }
                #expect(freed, "pids num_cgroups still \(GroupCLive.pidsCount() ?? -1), baseline \(baseline)")
            }
            guard mkdir(parent, 0o755) == 0 else { throw StagingError("mkdir(\(parent))", errno) }
            for index in 0..<count {
                let child = "\(parent)/c\(index)"
                guard mkdir(child, 0o755) == 0 else { throw StagingError("mkdir(\(child))", errno) }
                children.append(child)
                let pid = try GroupCLive.spawnSleep()
                zombies.append(pid)
                try StagedHierarchy.writePID(pid, to: "\(child)/cgroup.procs")
                kill(pid, SIGKILL)
            }
            // Wait until every child is a zombie, then remove the directories: the cgroups die.
            for pid in zombies {
                var tries = 0
                while GroupCLive.state(pid) != "Z" && tries < 200 { usleep(5_000); tries += 1 }
            }
            var removed: [String] = []
            for child in children {
                if rmdir(child) == 0 { removed.append(child) } else { Issue.record("rmdir(\(child)): \(String(cString: strerror(errno)))") }
            }
            children.removeAll { removed.contains($0) }

            let now = try #require(GroupCLive.pidsCount())
            #expect(now >= baseline + count, "pids num_cgroups \(now), baseline \(baseline)")

            let snapshot = try HostScanner().snapshot()
            let population = try #require(
                DyingCgroups.populations(snapshot).first { $0.hierarchy.controllers == [.pids] }, "no pids population")
            #expect(population.live != nil, "the scanner did not walk the pids hierarchy (num_cgroups \(population.total))")
            #expect((population.dying ?? 0) >= count, "dying \(population.dying ?? -1) of total \(population.total), live \(population.live ?? -1)")
            // Honest thresholds: 1,100 dying pids cgroups are not a problem worth a warning.
            #expect(!DyingCgroups().run(snapshot).contains { $0.hierarchy?.controllers == [.pids] })
            let lowered = DyingCgroups(warningDying: 1000).run(snapshot).first { $0.hierarchy?.controllers == [.pids] }
            let finding = try #require(lowered, "lowered threshold did not report the pids hierarchy")
            #expect(finding.severity == .warning)
            #expect(finding.summary.contains("dying"))
            #expect(finding.evidence.contains { $0.file == "/proc/cgroups" && $0.text.hasPrefix("pids") })
        }
    }
}

enum GroupCLive {
    /// `num_cgroups` of the pids line of /proc/cgroups.
    static func pidsCount() -> Int? {
        for line in (Live.read("/proc/cgroups") ?? "").split(separator: "\n") where line.hasPrefix("pids") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count == 4 { return Int(fields[2]) }
        }
        return nil
    }

    /// The state letter of /proc/<pid>/stat (after the parenthesised comm).
    static func state(_ pid: pid_t) -> Character? {
        guard let stat = Live.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].first { $0 != " " }
    }

    /// posix_spawn(/bin/sleep 600) without Foundation, so nothing reaps it behind our back.
    static func spawnSleep() throws -> pid_t {
        let path = try Live.tool("/bin/sleep", "/usr/bin/sleep")
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup("600"), nil]
        defer { for arg in argv { free(arg) } }
        let result = posix_spawn(&pid, path, nil, nil, argv, environ)
        guard result == 0 else { throw StagingError("posix_spawn(\(path))", result) }
        return pid
    }

    /// One write(2) of `text` (cgroupfs files take no atomic rename).
    static func write(_ text: String, to file: String) throws {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StagingError("open(\(file))", errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw StagingError("write(\(file))", errno) }
    }
}
#endif
