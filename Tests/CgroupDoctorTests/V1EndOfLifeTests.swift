import CgroupDoctor
import Testing

/// `v1-end-of-life`: legacy and hybrid nodes (no cgroup2 at /sys/fs/cgroup).
@Suite struct V1EndOfLifeTests {
    static let cases: [(String, Bool)] = [
        ("sandbox-process-api-hybrid", true),
        ("netdata-563-centos72-host", true),
        ("rhel8-jdk-cpuset-disabled", true),
        ("moby-38822-nonsystemd", true),
        ("rpi5-k3s-9524-memory-disabled-v2", false),  // unified
        ("lxd-4247-named-unmounted", false),  // nothing mounted
    ]

    @Test(arguments: cases)
    func firesOnV1Nodes(_ host: String, _ fires: Bool) throws {
        let findings = V1EndOfLife().run(try FixtureHost.scanner(host).snapshot())
        #expect(findings.count == (fires ? 1 : 0))
        guard let finding = findings.first else { return }
        #expect(finding.severity == .info)
        #expect(finding.impacts.contains { $0.message == "kubelet is configured to not run on a host using cgroup v1" })
        #expect(finding.evidence.contains { $0.line == nil && $0.text.hasPrefix("/sys/fs/cgroup is not a cgroup2 mount") })
        #expect(finding.remediation.commands.contains { $0.contains("systemd.unified_cgroup_hierarchy=1") })
    }

    @Test func hybridNamesWhereCgroup2Is() throws {
        let finding = try #require(V1EndOfLife().run(try FixtureHost.scanner("sandbox-process-api-hybrid").snapshot()).first)
        #expect(finding.summary.contains("hybrid: 9 cgroup v1 mounts, cgroup2 only at /sys/fs/cgroup/unified"))
        // PID 1 is process_api: the systemd kernel parameter alone would not help.
        #expect(finding.remediation.text.contains("PID 1 is \"process_api\", not systemd"))
    }
}
