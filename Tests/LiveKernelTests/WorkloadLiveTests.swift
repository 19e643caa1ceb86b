#if os(Linux)
import CgroupDoctor
import Foundation
import Glibc
import Testing

/// Who is hit, on the real kernel: pod- and container-shaped cgroup trees (both kubelet cgroup
/// drivers, Docker's systemd scope) built in a staged named hierarchy, live processes moved into
/// them, the hierarchy unmounted; `cgdoctor check` must attribute every process to its pod and
/// container, and `--pod` / `--container` must select them.
@Suite(
    "Live kernel: workload attribution (root)", .serialized,
    .enabled(if: Live.runnable, "needs root to mount cgroup hierarchies (set CI=true to fail instead of skipping)"))
struct WorkloadLiveTests {
    static let podA = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    static let containerA = String(repeating: "ab", count: 32)
    static let podB = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
    static let containerB = String(repeating: "cd", count: 32)
    static let dockerID = String(repeating: "ef", count: 32)

    @Test func podsAndContainersAreNamedAndSelectable() throws {
        try Live.exclusive {
            let staged = try StagedHierarchy()
            defer {
                let leftovers = staged.destroy()
                #expect(leftovers.isEmpty, "cleanup of \(staged.name) failed: \(leftovers)")
            }
            try staged.mount(creating: true)
            let cgroupfs = "kubepods/burstable/pod\(Self.podA)/\(Self.containerA)"
            let systemdPod = "kubepods-besteffort-pod\(Self.podB.replacingOccurrences(of: "-", with: "_")).slice"
            let systemd = "kubepods.slice/kubepods-besteffort.slice/\(systemdPod)/cri-containerd-\(Self.containerB).scope"
            let docker = "system.slice/docker-\(Self.dockerID).scope"
            for path in [cgroupfs, systemd, docker] {
                var prefix = ""
                for component in path.split(separator: "/") {
                    prefix += (prefix.isEmpty ? "" : "/") + component
                    if access("\(staged.mountPoint)/\(prefix)", F_OK) != 0 { try staged.makeChild(prefix) }
                }
            }
            let a1 = try staged.spawnSleeper(into: cgroupfs)
            let a2 = try staged.spawnSleeper(into: cgroupfs)
            let b = try staged.spawnSleeper(into: systemd)
            let d = try staged.spawnSleeper(into: docker)
            try staged.unmount()

            let all = try CheckJSON.decode(Live.startCgdoctor(["check", "--format", "json"]).finish())
            let finding = try #require(all.findings.first { $0.id == "hierarchy-not-mounted" && $0.hierarchy?.name == staged.name })
            let byPID = Dictionary(uniqueKeysWithValues: finding.affected.map { ($0.pid, $0) })
            for pid in [a1, a2] {
                #expect(byPID[pid]?.pod?.uid == Self.podA)
                #expect(byPID[pid]?.pod?.qos == "burstable")
                #expect(byPID[pid]?.container?.id == Self.containerA)
            }
            #expect(byPID[b]?.pod?.uid == Self.podB)
            #expect(byPID[b]?.pod?.qos == "besteffort")
            #expect(byPID[b]?.container?.runtime == "containerd")
            #expect(byPID[d]?.pod == nil)
            #expect(byPID[d]?.container?.runtime == "docker")
            #expect(byPID[d]?.container?.id == Self.dockerID)

            let podRun = try CheckJSON.decode(Live.startCgdoctor(["check", "--format", "json", "--pod", Self.podA]).finish())
            let podFinding = try #require(podRun.findings.first { $0.hierarchy?.name == staged.name })
            #expect(Set(podFinding.affected.map(\.pid)) == [a1, a2])

            let containerRun = try CheckJSON.decode(
                Live.startCgdoctor(["check", "--format", "json", "--container", String(Self.dockerID.prefix(12))]).finish())
            #expect(containerRun.findings.first { $0.hierarchy?.name == staged.name }?.affected.map(\.pid) == [d])

            let text = try Live.startCgdoctor(["check", "--no-color"]).finish()
            #expect(text.stdout.contains("pod \(Self.podA) (burstable) container \(Self.containerA.prefix(12)) (containerd): 2 processes"))
        }
    }
}
#endif
