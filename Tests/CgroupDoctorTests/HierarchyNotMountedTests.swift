import CgroupDoctor
import CgroupFormats
import Testing

/// `hierarchy-not-mounted` replayed on fixture hosts built from public incident reports.
@Suite struct HierarchyNotMountedTests {
    struct Case: Sendable, CustomStringConvertible {
        var host: String
        /// (hierarchy id, name, controllers) expected to be reported, in report order.
        var expected: [(Int, String?, [String])]
        var description: String { host }
    }

    static let cases: [Case] = [
        Case(host: "synthetic-cpu-mirror-unmounted", expected: [(12, "cpu_mirror", [])]),
        Case(
            host: "lxd-4247-named-unmounted",
            expected: [
                (1, "openrc", []), (2, nil, ["cpuset"]), (3, nil, ["cpu"]), (4, nil, ["cpuacct"]), (5, nil, ["blkio"]),
                (6, nil, ["memory"]), (7, nil, ["devices"]), (8, nil, ["freezer"]), (9, "systemd", []),
            ]),
        Case(host: "moby-38822-nonsystemd", expected: [(12, "systemd", [])]),
        Case(host: "netdata-563-centos72-host", expected: []),
        Case(host: "runc-258-no-optional-fields", expected: []),
        Case(host: "likakuli-k8s-pod", expected: []),
        Case(host: "jdk-8343191-outside-root", expected: []),
    ]

    @Test(arguments: cases)
    func reportsExactlyTheUnmountedHierarchies(_ c: Case) throws {
        let snapshot = try FixtureHost.scanner(c.host).snapshot()
        let findings = HierarchyNotMounted().run(snapshot)
        #expect(findings.count == c.expected.count)
        for (finding, expected) in zip(findings, c.expected) {
            #expect(finding.id == "hierarchy-not-mounted")
            #expect(finding.severity == .error)
            #expect(finding.hierarchy?.id == expected.0)
            #expect(finding.hierarchy?.name == expected.1)
            #expect(finding.hierarchy?.controllers.map(\.rawValue) == expected.2)
            // Every error names what it is about.
            #expect(finding.summary.contains("hierarchy \(expected.0) ("))
            #expect(finding.evidence.contains { $0.file.hasSuffix("/mountinfo") && $0.line == nil })
            #expect(finding.impacts.contains { $0.message == "cgroups: cannot find cgroup mount destination: unknown" })
        }
    }

    @Test func cpuMirrorIncidentNamesTheAgentBelowTheRoot() throws {
        let report = try Diagnosis.check(FixtureHost.scanner("synthetic-cpu-mirror-unmounted"))
        let finding = try #require(report.findings.first)
        // Only error: v1-end-of-life (info) also fires on this v1 host.
        #expect(report.findings.filter { $0.severity == .error }.count == 1)
        #expect(finding.summary.contains("listed by 3 processes"))
        #expect(finding.summary.contains("mounted in no mount namespace on this host"))
        #expect(
            finding.affected == [
                AffectedProcess(
                    pid: 5000, command: "cpu-agent", cgroupPath: "/jobs/job-1", workload: Workload(unit: "cpu-agent.service"))
            ])
        // The quoted evidence is the agent's line, the one that shows why the hierarchy survived.
        #expect(finding.evidence.first == Evidence(file: "/proc/5000/cgroup", line: 1, text: "12:name=cpu_mirror:/jobs/job-1"))
        #expect(finding.explanation.contains("survived a umount"))
        #expect(finding.mountedElsewhere.isEmpty)
        // -o name=X re-attaches whatever it carries; -o none,name=X would fail with EBUSY if it had controllers.
        #expect(finding.remediation.commands.contains("mount -t cgroup -o name=cpu_mirror cgroup /sys/fs/cgroup/cpu_mirror"))
        #expect(finding.remediation.commands.contains { $0.contains("rmdir") })
        #expect(report.namespaceCount == 2)
    }

    @Test func controllerHierarchyGetsControllerMountCommand() throws {
        let findings = HierarchyNotMounted().run(try FixtureHost.scanner("lxd-4247-named-unmounted").snapshot())
        let cpu = try #require(findings.first { $0.hierarchy?.id == 3 })
        #expect(cpu.remediation.commands.contains("mount -t cgroup -o cpu cgroup /sys/fs/cgroup/cpu"))
        // Destroying a controller hierarchy is not offered: it would drop limits.
        #expect(!cpu.remediation.commands.contains { $0.contains("rmdir") })
        let devices = try #require(findings.first { $0.hierarchy?.id == 7 })
        #expect(devices.impacts.contains { $0.message == "mountpoint for devices not found" })
    }

    /// A hierarchy mounted in another process's private namespace is reported with where it is.
    @Test func mountedOnlyInAnotherNamespace() throws {
        var snapshot = try FixtureHost.scanner("synthetic-cpu-mirror-unmounted").snapshot()
        let privateMount = try MountInfo.parseLine(
            Array("90 89 0:99 / /run/agent/cpu_mirror rw,relatime - cgroup cgroup rw,name=cpu_mirror".utf8), number: 7,
            file: "/proc/4242/mountinfo")
        let index = try #require(snapshot.namespaces.firstIndex { $0.holderPID == 4242 })
        snapshot.namespaces[index].mountInfo.entries.append(privateMount)
        let finding = try #require(HierarchyNotMounted().run(snapshot).first)
        #expect(finding.mountedElsewhere.map(\.pid) == [4242])
        #expect(finding.mountedElsewhere.first?.mountPoint == "/run/agent/cpu_mirror")
        #expect(finding.summary.contains("mounted only in another mount namespace: pid 4242 (java)"))
        #expect(finding.evidence.contains(Evidence(privateMount, file: "/proc/4242/mountinfo")))
    }
}
