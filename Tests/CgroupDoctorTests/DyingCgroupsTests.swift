import CgroupDoctor
import CgroupFormats
import Testing

/// `dying-cgroups` on fixture hosts built from moby#29638 and kubernetes#61937, a v2 host, and
/// the clean hosts.
@Suite struct DyingCgroupsTests {
    struct Case: Sendable, CustomStringConvertible {
        var host: String
        /// (hierarchy id, severity, dying) expected, in order.
        var expected: [(Int, Severity, Int)]
        var description: String { host }
    }

    static let cases: [Case] = [
        Case(host: "moby-29638-dying-memcg-v1", expected: [(5, .warning, 22500)]),
        Case(host: "k8s-61937-memcg-id-limit-v1", expected: [(11, .error, 65526)]),
        Case(host: "synthetic-dying-cgroups-v2", expected: [(0, .warning, 31870)]),
        Case(host: "synthetic-cpu-mirror-unmounted", expected: []),
        Case(host: "netdata-563-centos72-host", expected: []),
        Case(host: "cve-2022-0492-release-agent", expected: []),
    ]

    @Test(arguments: cases)
    func reportsExactlyTheLeakingHierarchies(_ c: Case) throws {
        let snapshot = try FixtureHost.scanner(c.host).snapshot()
        let findings = DyingCgroups().run(snapshot)
        #expect(findings.map { $0.hierarchy?.id } == c.expected.map(\.0))
        #expect(findings.map(\.severity) == c.expected.map(\.1))
        for (finding, expected) in zip(findings, c.expected) {
            #expect(finding.summary.contains("\(expected.2) dying"), "\(finding.summary)")
            #expect(finding.hostWide)
            #expect(!finding.evidence.isEmpty)
        }
    }

    /// moby#29638: 22563 in /proc/cgroups, 61 containers + /docker below the root.
    @Test func mobyArithmeticAndEvidence() throws {
        let snapshot = try FixtureHost.scanner("moby-29638-dying-memcg-v1").snapshot()
        let memory = try #require(DyingCgroups.populations(snapshot).first { $0.hierarchy.id == 5 })
        #expect(memory.total == 22563)
        #expect(memory.live == 62)
        #expect(memory.dying == 22500)
        #expect(memory.memoryCgroups == 22563)
        // Small hierarchies are not walked (HostScanner.dyingCountThreshold).
        #expect(DyingCgroups.populations(snapshot).first { $0.hierarchy.id == 2 }?.live == nil)
        let finding = try #require(DyingCgroups().run(snapshot).first)
        #expect(finding.evidence.first == Evidence(file: "/proc/cgroups", line: 6, text: "memory\t5\t22563\t1"))
        #expect(finding.evidence.contains { $0.file == "/sys/fs/cgroup/memory" && $0.line == nil && $0.text.hasPrefix("62 ") })
        #expect(!finding.impacts.contains { $0.message?.contains("no space left on device") == true })
    }

    /// kubernetes#61937: at the ID limit, the runtime's mkdir error is quoted.
    @Test func k8sAtTheIDLimitIsAnError() throws {
        let finding = try #require(DyingCgroups().run(try FixtureHost.scanner("k8s-61937-memcg-id-limit-v1").snapshot()).first)
        #expect(finding.severity == .error)
        #expect(finding.summary.contains("0 short of the 65535 memory cgroup ID limit"))
        #expect(finding.impacts.contains { $0.message?.hasSuffix("no space left on device\"") == true })
        #expect(finding.remediation.commands.contains { $0.hasPrefix("sync && echo 3 > /proc/sys/vm/drop_caches") })
    }

    /// v2 before 6.11 (no nr_subsys_memory): the memory count is an upper bound from nr_descendants.
    @Test func v2WithoutSubsystemCounts() throws {
        var snapshot = try FixtureHost.scanner("synthetic-dying-cgroups-v2").snapshot()
        let old = FlatKeyedFile.parse(
            Array("nr_descendants 212\nnr_dying_descendants 61000\n".utf8), file: "/sys/fs/cgroup/cgroup.stat")
        snapshot.cgroup2Root?.stat = old
        let population = try #require(DyingCgroups.populations(snapshot).first)
        #expect(population.memoryCgroups == 61213)
        let finding = try #require(DyingCgroups().run(snapshot).first)
        #expect(finding.severity == .error)
        // Memory not available on v2 (hybrid host): dying cgroups alone, no ID-limit claim.
        snapshot.cgroup2Root?.controllers = [.cpu, .pids]
        #expect(DyingCgroups().run(snapshot).map(\.severity) == [.warning])
    }

    /// Above 65535 the kernel evidently frees IDs of dying memory cgroups: warning, not error.
    @Test func aboveTheLimitMeansIDsAreReleased() throws {
        var snapshot = try FixtureHost.scanner("moby-29638-dying-memcg-v1").snapshot()
        let text = "memory\t5\t90000\t1"
        let entry = try ControllerEntry.parse(Array(text.utf8), number: 6, file: "/proc/cgroups")
        let index = try #require(snapshot.controllers?.entries.firstIndex { $0.controller == .memory })
        snapshot.controllers?.entries[index] = entry
        let finding = try #require(DyingCgroups().run(snapshot).first)
        #expect(finding.severity == .warning)
        #expect(finding.explanation.contains("releases the IDs of dying memory cgroups"))
    }

    /// This machine's normal churn (45-55 memory cgroups for 6-8 directories) is far below any line.
    @Test func normalChurnIsQuiet() throws {
        var snapshot = try FixtureHost.scanner("moby-29638-dying-memcg-v1").snapshot()
        let entry = try ControllerEntry.parse(Array("memory\t5\t55\t1".utf8), number: 6, file: "/proc/cgroups")
        let index = try #require(snapshot.controllers?.entries.firstIndex { $0.controller == .memory })
        snapshot.controllers?.entries[index] = entry
        #expect(DyingCgroups().run(snapshot).isEmpty)
    }
}
