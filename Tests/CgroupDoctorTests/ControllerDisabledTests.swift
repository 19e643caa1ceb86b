import CgroupDoctor
import CgroupFormats
import Testing

/// `controller-disabled`: /proc/cgroups enabled 0.
@Suite struct ControllerDisabledTests {
    struct Case: Sendable, CustomStringConvertible {
        var host: String
        var expected: (Severity, [String])?
        var description: String { host }
    }

    static let cases: [Case] = [
        Case(host: "rpi5-k3s-9524-memory-disabled-v2", expected: (.error, ["memory"])),  // k3s-io/k3s#9524
        Case(host: "rhel8-jdk-cpuset-disabled", expected: (.error, ["cpuset"])),  // JDK testCgroupv1CpusetDisabled
        Case(host: "sandbox-process-api-hybrid", expected: nil),
        Case(host: "synthetic-cpu-mirror-unmounted", expected: nil),
        Case(host: "moby-38822-nonsystemd", expected: nil),  // no /proc/cgroups
    ]

    @Test(arguments: cases)
    func reportsDisabledControllers(_ c: Case) throws {
        let findings = ControllerDisabled().run(try FixtureHost.scanner(c.host).snapshot())
        guard let (severity, names) = c.expected else {
            #expect(findings.isEmpty)
            return
        }
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.severity == severity)
        #expect(finding.hostWide)
        for name in names {
            #expect(finding.summary.contains(name))
            #expect(finding.evidence.contains { $0.file == "/proc/cgroups" && $0.text.hasPrefix("\(name)\t0\t") && $0.text.hasSuffix("\t0") })
        }
    }

    @Test func memoryOnV2NamesDockerAndK3sButNotTheV1Kubelet() throws {
        let finding = try #require(ControllerDisabled().run(try FixtureHost.scanner("rpi5-k3s-9524-memory-disabled-v2").snapshot()).first)
        #expect(finding.impacts.contains { $0.message == "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded." })
        #expect(finding.impacts.contains { $0.consumer == "k3s" })
        #expect(!finding.impacts.contains { $0.message?.contains("Following Cgroup subsystem not mounted") == true })
        #expect(finding.remediation.commands.contains { $0.contains("cgroup_enable=memory cgroup_memory=1") })
        #expect(finding.evidence.contains { $0.file == "/sys/fs/cgroup/cgroup.controllers" && $0.text == "cpuset cpu io pids" })
    }

    @Test func cpusetOnV1QuotesTheKubeletMessage() throws {
        let finding = try #require(ControllerDisabled().run(try FixtureHost.scanner("rhel8-jdk-cpuset-disabled").snapshot()).first)
        #expect(finding.impacts.contains {
            $0.message == "Failed to start ContainerManager system validation failed - Following Cgroup subsystem not mounted: [cpuset]"
        })
        #expect(finding.remediation.commands.contains { $0.contains("--remove-args=\"cgroup_disable=cpuset\"") })
    }

    /// Only non-confining controllers off: a warning, not an error.
    @Test func nonConfiningControllerIsAWarning() throws {
        var snapshot = try FixtureHost.scanner("sandbox-process-api-hybrid").snapshot()
        let entries = try #require(snapshot.controllers?.entries)
        let index = try #require(entries.firstIndex { $0.controller == .netPrio })
        snapshot.controllers?.entries[index].enabled = false
        let finding = try #require(ControllerDisabled().run(snapshot).first)
        #expect(finding.severity == .warning)
        #expect(finding.summary.contains("net_prio"))
    }
}
