import CgroupDoctor
import CgroupFormats
import Testing

/// `controller-unbound`: enabled, hierarchy 0, and not usable on v2 either (perf_event implicit,
/// blkio = io, cpuacct/devices/freezer done by v2's core when cgroup2 is at /sys/fs/cgroup).
@Suite struct ControllerUnboundTests {
    static let cases: [(String, [String]?)] = [
        ("sandbox-process-api-hybrid", ["net_cls", "net_prio"]),  // not perf_event (implicit), not hugetlb (on v2)
        ("rpi5-k3s-9524-memory-disabled-v2", ["net_cls", "net_prio"]),  // not memory (disabled), not cpuacct/devices/freezer/perf_event
        ("synthetic-cpu-mirror-unmounted", nil),  // every controller on a v1 hierarchy
        ("rhel8-jdk-cpuset-disabled", nil),  // cpuset is disabled, not unbound
        ("moby-38822-nonsystemd", nil),  // no /proc/cgroups
    ]

    @Test(arguments: cases)
    func listsExactlyTheUnusableControllers(_ host: String, _ expected: [String]?) throws {
        let findings = ControllerUnbound().run(try FixtureHost.scanner(host).snapshot())
        guard let expected else {
            #expect(findings.isEmpty)
            return
        }
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.severity == .info)
        let quoted = finding.evidence.filter { $0.file == "/proc/cgroups" }.compactMap { $0.text.split(separator: "\t").first.map(String.init) }
        #expect(quoted == expected)
        #expect(finding.impacts.contains { $0.consumer.hasPrefix("Docker, Kubernetes") && $0.effect.hasPrefix("unaffected") })
    }

    /// Without a cgroup2 mount, perf_event and hugetlb at hierarchy 0 are unusable too.
    @Test func withoutCgroup2EveryHierarchyZeroControllerIsUnbound() throws {
        var snapshot = try FixtureHost.scanner("sandbox-process-api-hybrid").snapshot()
        let index = try #require(snapshot.namespaces.firstIndex { $0.holderPID == 1 })
        snapshot.namespaces[index].mountInfo.entries.removeAll { $0.fileSystemType == "cgroup2" }
        snapshot.cgroup2Root = nil
        let finding = try #require(ControllerUnbound().run(snapshot).first)
        #expect(finding.summary.contains("net_cls, perf_event, net_prio, hugetlb"))
        #expect(finding.evidence.contains { $0.line == nil && $0.text.hasPrefix("no cgroup2 mount") })
    }

    /// cgroup2 mounted but its cgroup.controllers unreadable: nothing is claimed.
    @Test func unknownV2ControllersClaimNothing() throws {
        var snapshot = try FixtureHost.scanner("sandbox-process-api-hybrid").snapshot()
        snapshot.cgroup2Root?.controllers = nil
        #expect(ControllerUnbound().run(snapshot).isEmpty)
    }

    /// On a unified host the remediation must not mkdir inside the cgroup2 mount.
    @Test func unifiedHostMountsOutsideSysFsCgroup() throws {
        let finding = try #require(ControllerUnbound().run(try FixtureHost.scanner("rpi5-k3s-9524-memory-disabled-v2").snapshot()).first)
        #expect(finding.remediation.commands.contains { $0.contains("/run/cgroup-v1/net_cls,net_prio") })
        #expect(!finding.remediation.commands.contains { $0.contains("mkdir -p /sys/fs/cgroup/") })
    }
}
