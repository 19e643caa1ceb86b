import CgroupFormats
import SystemPackage

/// `v1-consumers-on-v2-host`: the runtime's mount namespace has only cgroup v2 (a `cgroup2` mount,
/// no `cgroup` mount): software that only speaks cgroup v1 cannot work here.
///
/// Runtime behaviour (research/runtime-anchors.md §1.4 and §2 cause E):
/// - containerd/cgroups v1 (`cgroup1.V1` → `v1MountPoint()`) scans mountinfo for the first `cgroup`
///   mount and otherwise returns `ErrMountPointNotExist`, "cgroups: cgroup mountpoint does not exist"
///   (containerd/cgroups `cgroup1/errors.go`). Docker ≤ 19.03 with containerd < 1.4 fail every
///   `docker run` with it (Fedora 31: docker/for-linux#665, haxorof/ansible-role-docker-ce#116,
///   kata-containers reports); Docker 20.10 / containerd 1.4 added v2 support.
/// - runc supports v2 since v1.0.0-rc91 (opencontainers/runc docs/cgroup-v2.md); older runc fails
///   with "mountpoint for cgroup not found" (containers/podman#4610, Fedora 31).
/// - kubelet before 1.19 does not start on unified hosts (kubernetes-sigs/kind#2082): "Failed to
///   start ContainerManager system validation failed - Following Cgroup subsystem not mounted:
///   [cpu cpuacct cpuset memory]" (kubernetes/kubernetes#90710); cgroup v2 is GA since 1.25.
/// - Language runtimes that read only v1 files see no limit and size themselves from the host:
///   HotSpot before 8u372 / 11.0.16 / 15 (JDK-8230305), uber-go/automaxprocs before v1.5.1,
///   Node.js before 20.3 (nodejs/node#47259), .NET Core 3.1 (dotnet/runtime#75180).
///
/// `info`: a unified host is the healthy modern default; this names what must be new enough.
/// Fixtures: `rpi5-k3s-9524-memory-disabled-v2`; not on any legacy/hybrid host (e.g.
/// `sandbox-process-api-hybrid`, where cgroup2 is only at /sys/fs/cgroup/unified).
public struct V1ConsumersOnV2Host: Check {
    public init() {}
    public let id = "v1-consumers-on-v2-host"
    public let severity = Severity.info
    public let title = "cgroup v2 only: runtimes and JVMs without v2 support fail or ignore limits"

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        guard snapshot.mode == .unified, let reference = snapshot.referenceNamespace,
            let unified = reference.cgroupMounts.first(where: { $0.fileSystemType == "cgroup2" })
        else { return [] }

        var evidence = [Evidence(unified, file: reference.mountInfo.file)]
        evidence.append(
            Evidence(
                file: reference.mountInfo.file, line: nil,
                text: "no cgroup (v1) mount in the runtime's mount namespace \(reference.id)"))
        if let process = snapshot.process(snapshot.referencePID) ?? snapshot.processes.first,
            let line = process.cgroups.unified
        {
            evidence.append(Evidence(line, file: process.cgroups.file))
        }
        // /proc/cgroups: hierarchy 0 for the controllers every runtime needs shows they sit on v2.
        for entry in snapshot.controllers?.entries ?? [] where entry.enabled && [Controller.cpu, .memory].contains(entry.controller) {
            evidence.append(Evidence(file: snapshot.controllers?.file ?? "/proc/cgroups", line: entry.line, text: entry.text))
        }

        let at = unified.mountPoint.string
        return [
            Finding(
                id: id, severity: severity,
                summary: "cgroup v2 only (cgroup2 at \(at), no v1 hierarchy mounted): container runtimes, kubelets and language runtimes without cgroup v2 support fail or ignore limits here",
                explanation: "No cgroup (v1) filesystem is mounted in the runtime's mount namespace; every controller lives on the unified "
                    + "hierarchy at \(at). Code that only knows v1 looks for per-controller mounts such as /sys/fs/cgroup/memory and "
                    + "finds none: containerd's v1 code (Docker up to 19.03) fails with \"cgroups: cgroup mountpoint does not exist\" "
                    + "(not \"cannot find cgroup mount destination\"), and JVMs, Go and Node versions that predate v2 support silently "
                    + "use the host's CPU count and memory.",
                evidence: evidence,
                impacts: [
                    Impact(
                        consumer: "Docker up to 19.03 / containerd before 1.4 (containerd/cgroups v1 v1MountPoint)",
                        effect: "fails to start every container", message: "cgroups: cgroup mountpoint does not exist: unknown"),
                    Impact(
                        consumer: "runc before 1.0.0-rc91", effect: "fails to create containers",
                        message: "mountpoint for cgroup not found"),
                    Impact(
                        consumer: "kubelet before 1.19", effect: "does not start",
                        message: "Failed to start ContainerManager system validation failed - Following Cgroup subsystem not mounted: [cpu cpuacct cpuset memory]"),
                    Impact(
                        consumer: "HotSpot before 8u372 / 11.0.16 / 15 (JDK-8230305), uber-go/automaxprocs before v1.5.1, Node.js before 20.3, .NET Core 3.1",
                        effect: "sees no container limit: sizes heap and threads from the host", message: nil),
                    Impact(
                        consumer: "Docker 20.10+, containerd 1.4+, runc 1.0+, CRI-O 1.20+, kubelet 1.25+ (v2 GA)",
                        effect: "unaffected", message: nil),
                ],
                remediation: Remediation(
                    text: "Keep cgroup v2 and upgrade what is too old: Docker ≥ 20.10, containerd ≥ 1.4, runc ≥ 1.0, kubelet ≥ 1.25, "
                        + "OpenJDK ≥ 8u372 / 11.0.16 / 17, automaxprocs ≥ 1.5.1 (or Go ≥ 1.25), Node.js ≥ 20.3, .NET ≥ 5. Booting back "
                        + "into v1 (systemd.unified_cgroup_hierarchy=0) only postpones it: systemd 256 refuses v1 without "
                        + "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1, systemd 258 removed it, Kubernetes 1.35 kubelets refuse it.",
                    commands: [
                        "stat -fc %T /sys/fs/cgroup   # cgroup2fs",
                        "docker version --format '{{.Server.Version}}'; containerd --version; runc --version",
                        "java -XshowSettings:system -version 2>&1 | grep -iA2 'provider'   # cgroupv2 on a v2-aware JDK",
                    ]),
                hostWide: true)
        ]
    }
}
