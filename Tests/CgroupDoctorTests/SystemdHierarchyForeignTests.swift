import CgroupDoctor
import CgroupFormats
import Testing

/// `systemd-hierarchy-foreign` on fixture hosts from public reports and this sandbox.
@Suite struct SystemdHierarchyForeignTests {
    struct Case: Sendable, CustomStringConvertible {
        var host: String
        /// Expected (severity, hierarchy id), nil when the check must stay silent.
        var expected: (Severity, Int)?
        var description: String { host }
    }

    static let cases: [Case] = [
        Case(host: "moby-38822-nonsystemd", expected: (.warning, 12)),  // runit, name=systemd unmounted
        Case(host: "lxd-4247-named-unmounted", expected: (.warning, 9)),  // OpenRC LXD guest
        Case(host: "sandbox-process-api-hybrid", expected: (.info, 9)),  // process_api, mounted
        Case(host: "likakuli-k8s-pod", expected: nil),  // PID 1 is a pod's java: the host's systemd owns it
        Case(host: "synthetic-cpu-mirror-unmounted", expected: nil),  // PID 1 is systemd
        Case(host: "runc-258-no-optional-fields", expected: nil),  // no name=systemd at all
    ]

    @Test(arguments: cases)
    func firesOnlyWhenPID1IsNotSystemd(_ c: Case) throws {
        let findings = SystemdHierarchyForeign().run(try FixtureHost.scanner(c.host).snapshot())
        guard let (severity, id) = c.expected else {
            #expect(findings.isEmpty)
            return
        }
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.severity == severity)
        #expect(finding.hierarchy?.id == id)
        #expect(finding.hierarchy?.name == "systemd")
        #expect(finding.evidence.contains { $0.file == "/proc/1/comm" && $0.line == 1 })
        #expect(finding.evidence.first?.text.hasPrefix("\(id):name=systemd:") == true)
        // Unmounted: hits every container start (containerd v1), and says how to mount it.
        #expect(finding.hostWide == (severity == .warning))
        if severity == .warning {
            #expect(finding.impacts.contains { $0.message == "cgroups: cannot find cgroup mount destination: unknown" })
            #expect(finding.remediation.commands.contains("sudo mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd"))
            #expect(finding.evidence.contains { $0.file.hasSuffix("/mountinfo") && $0.line == nil })
        } else {
            #expect(finding.summary.contains("nothing breaks"))
            #expect(finding.evidence.contains { $0.text.hasSuffix("rw,name=systemd") && $0.line != nil })
        }
    }

    @Test func namesTheInitCommand() throws {
        let finding = try #require(SystemdHierarchyForeign().run(try FixtureHost.scanner("moby-38822-nonsystemd").snapshot()).first)
        #expect(finding.summary.contains("PID 1 is \"runit\""))
        #expect(finding.summary.contains("hierarchy 12"))
    }

    /// A container's bind mount of the host's hierarchy (root not "/") is the host systemd's.
    @Test func containerBindMountIsNotForeign() throws {
        var snapshot = try FixtureHost.scanner("sandbox-process-api-hybrid").snapshot()
        let index = try #require(snapshot.namespaces.firstIndex { $0.holderPID == 1 })
        let entries = snapshot.namespaces[index].mountInfo.entries
        let systemd = try #require(entries.firstIndex { $0.superOptions.contains("name=systemd") })
        snapshot.namespaces[index].mountInfo.entries[systemd].root = "/docker/0123"
        #expect(SystemdHierarchyForeign().run(snapshot).isEmpty)
    }

    @Test func unreadableInitCommandClaimsNothing() throws {
        var snapshot = try FixtureHost.scanner("moby-38822-nonsystemd").snapshot()
        snapshot.commands[1] = nil
        #expect(SystemdHierarchyForeign().run(snapshot).isEmpty)
    }
}
