import CgroupDoctor
import Foundation
import CgroupFormats
import SystemPackage
import Testing

/// Container, pod and unit attribution from cgroup paths, one case per runtime and cgroup driver,
/// with paths as those runtimes write them.
@Suite struct WorkloadTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var path: String
        var runtime: String?
        var id: String?
        var podUID: String?
        var qos: String?
        var unit: String?
        var description: String { name }
    }

    static let id64 = "bcab873e8fabfd242de0b6277d0e2a2ec44ae0f14081f0302169da1bcbc8d987"
    static let cases: [Case] = [
        // likakuli.com pod view: Docker 18.06 + kubelet cgroupfs driver.
        Case(
            name: "kubeletCgroupfsBurstable",
            path: "/kubepods/burstable/podef9e6830-7199-11eb-9004-246e967c4f1c/\(id64)",
            runtime: "containerd", id: id64, podUID: "ef9e6830-7199-11eb-9004-246e967c4f1c", qos: "burstable"),
        Case(
            name: "kubeletCgroupfsGuaranteed",
            path: "/kubepods/podef9e6830-7199-11eb-9004-246e967c4f1c/\(id64)",
            runtime: "containerd", id: id64, podUID: "ef9e6830-7199-11eb-9004-246e967c4f1c", qos: "guaranteed"),
        Case(
            name: "kubeletSystemdBesteffortCriContainerd",
            path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podb416c7ab_2b1d_4d85_8d6e_6a6e0e3c3b2a.slice/cri-containerd-\(id64).scope",
            runtime: "containerd", id: id64, podUID: "b416c7ab-2b1d-4d85-8d6e-6a6e0e3c3b2a", qos: "besteffort",
            unit: "cri-containerd-\(id64).scope"),
        Case(
            name: "kubeletSystemdGuaranteedCrio",
            path: "/kubepods.slice/kubepods-podb416c7ab_2b1d_4d85_8d6e_6a6e0e3c3b2a.slice/crio-\(id64).scope",
            runtime: "cri-o", id: id64, podUID: "b416c7ab-2b1d-4d85-8d6e-6a6e0e3c3b2a", qos: "guaranteed",
            unit: "crio-\(id64).scope"),
        Case(
            name: "crioConmon",
            path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podb416c7ab_2b1d_4d85_8d6e_6a6e0e3c3b2a.slice/crio-conmon-\(id64).scope",
            runtime: "cri-o", id: id64, podUID: "b416c7ab-2b1d-4d85-8d6e-6a6e0e3c3b2a", qos: "burstable",
            unit: "crio-conmon-\(id64).scope"),
        Case(name: "dockerCgroupfs", path: "/docker/\(id64)", runtime: "unknown", id: id64),
        Case(
            name: "dockerSystemd", path: "/system.slice/docker-\(id64).scope", runtime: "docker", id: id64,
            unit: "docker-\(id64).scope"),
        Case(
            name: "podmanMachineSlice", path: "/machine.slice/libpod-\(id64).scope", runtime: "podman", id: id64,
            unit: "libpod-\(id64).scope"),
        // containerd's systemd driver cgroupsPath form as a single name (automaxprocs' testdata).
        Case(
            name: "containerdColonForm", path: "/system.slice/containerd.service/kubepods-besteffort-podb416.slice:cri-containerd:\(id64)",
            runtime: "containerd", id: id64, unit: "containerd.service"),
        Case(name: "systemdService", path: "/system.slice/containerd.service", unit: "containerd.service"),
        Case(name: "userSession", path: "/user.slice/user-1000.slice/session-3.scope", unit: "session-3.scope"),
        Case(name: "root", path: "/"),
        // Not a container id: 63 hex digits, uppercase, or a pod name that is too short.
        Case(name: "notAnID", path: "/docker/\(id64.dropLast())"),
        Case(name: "shortPodName", path: "/kubepods/burstable/pod0000/0000"),
    ]

    @Test(arguments: cases)
    func classifies(_ c: Case) {
        let workload = Workload.classify(FilePath(c.path))
        #expect(workload.container?.runtime == c.runtime)
        #expect(workload.container?.id == c.id)
        #expect(workload.pod?.uid == c.podUID)
        #expect(workload.pod?.qos == c.qos)
        #expect(workload.unit == c.unit)
    }

    @Test func processWorkloadPrefersTheLineThatNamesAContainer() throws {
        let file = ProcessCgroups.parse(
            Array("""
                12:name=cpu_mirror:/
                4:pids:/system.slice/kubelet.service
                2:cpu,cpuacct:/kubepods/besteffort/podef9e6830-7199-11eb-9004-246e967c4f1c/\(Self.id64)
                1:name=systemd:/system.slice/kubelet.service

                """.utf8), file: "/proc/7/cgroup")
        let workload = Workload.of(file)
        #expect(workload.pod?.uid == "ef9e6830-7199-11eb-9004-246e967c4f1c")
        #expect(workload.container?.id == Self.id64)
        #expect(workload.description == "pod ef9e6830-7199-11eb-9004-246e967c4f1c (besteffort) container bcab873e8fab (containerd)")
    }
}

/// `--pid`, `--container`, `--pod`, `--severity`, `--ignore` over the pod-shaped fixture host.
@Suite struct SelectionTests {
    static let podA = "ef9e6830-7199-11eb-9004-246e967c4f1c"
    static let containerB = "5f2b8d4c2a0e4b8f9d6c3a1e7b9f0c2d4e6a8b0c1d3e5f7a9b1c3d5e7f9a0b2c"

    func report(_ selection: Selection) throws -> Report {
        try Diagnosis.check(FixtureHost.scanner("pods-in-unmounted-named-hierarchy"), selection: selection)
    }

    @Test func everythingGroupsThreePodsProcesses() throws {
        let finding = try #require(try report(.everything).findings.first { $0.id == "hierarchy-not-mounted" })
        #expect(finding.affectedTotal == 4)
        #expect(Set(finding.affected.compactMap(\.workload.pod?.uid)).count == 2)
    }

    @Test func podSelectionTrimsAffectedButKeepsTheNodeWideFinding() throws {
        let finding = try #require(try report(Selection(pods: [Self.podA])).findings.first { $0.id == "hierarchy-not-mounted" })
        #expect(finding.affected.map(\.pid).sorted() == [4242, 4243])
        #expect(finding.affectedTotal == 2)
        // Underscores (systemd driver spelling) select the same pod.
        let underscored = Selection(pods: [Self.podA.replacingOccurrences(of: "-", with: "_")])
        #expect(try report(underscored).findings.first { $0.id == "hierarchy-not-mounted" }?.affectedTotal == 2)
    }

    @Test func containerPrefixAndPidSelect() throws {
        let byContainer = try report(Selection(containers: [String(Self.containerB.prefix(12))]))
        #expect(byContainer.findings.first { $0.id == "hierarchy-not-mounted" }?.affected.map(\.pid) == [5001])
        let byPID = try report(Selection(pids: [5001]))
        #expect(byPID.findings.first { $0.id == "hierarchy-not-mounted" }?.affected.map(\.pid) == [5001])
    }

    @Test func severityAndIgnore() throws {
        let errorsOnly = try report(Selection(minimumSeverity: .error))
        #expect(errorsOnly.findings.allSatisfy { $0.severity == .error })
        let ignored = try report(Selection(ignored: ["hierarchy-not-mounted"]))
        #expect(!ignored.findings.contains { $0.id == "hierarchy-not-mounted" })
    }

    /// A host-only finding (no affected process) stays when a workload is selected only if it is
    /// node-wide; a process-scoped finding that misses the selection disappears.
    @Test func processScopedFindingsDisappearWhenTheyMissTheSelection() {
        let scoped = Finding(
            id: "x", severity: .warning, summary: "s", explanation: "e", evidence: [],
            affected: [AffectedProcess(pid: 1, command: nil, cgroupPath: "/")],
            remediation: Remediation(text: "r", commands: []))
        var wide = scoped
        wide.hostWide = true
        let kept = Selection(pids: [99]).apply([scoped, wide])
        #expect(kept.count == 1)
        #expect(kept.first?.hostWide == true)
        #expect(kept.first?.affected.isEmpty == true)
    }
}
