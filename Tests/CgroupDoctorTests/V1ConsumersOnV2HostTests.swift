import CgroupDoctor
import Testing

/// `v1-consumers-on-v2-host`: only on hosts whose runtime namespace mounts nothing but cgroup2.
@Suite struct V1ConsumersOnV2HostTests {
    static let cases: [(String, Bool)] = [
        ("rpi5-k3s-9524-memory-disabled-v2", true),  // cgroup2 at /sys/fs/cgroup, no v1 mount
        ("sandbox-process-api-hybrid", false),  // hybrid: cgroup2 only at /sys/fs/cgroup/unified
        ("lxd-4247-named-unmounted", false),  // nothing mounted at all
        ("netdata-563-centos72-host", false),  // legacy
    ]

    @Test(arguments: cases)
    func firesOnUnifiedHostsOnly(_ host: String, _ fires: Bool) throws {
        let findings = V1ConsumersOnV2Host().run(try FixtureHost.scanner(host).snapshot())
        #expect(findings.count == (fires ? 1 : 0))
        guard let finding = findings.first else { return }
        #expect(finding.severity == .info)
        #expect(finding.impacts.contains { $0.message == "cgroups: cgroup mountpoint does not exist: unknown" })
        #expect(finding.evidence.first?.text.contains(" - cgroup2 ") == true)
        #expect(finding.evidence.contains { $0.text == "0::/init.scope" })
        // memory is disabled on that Pi: it is no evidence that controllers sit on v2.
        #expect(!finding.evidence.contains { $0.text.hasPrefix("memory") })
    }
}
