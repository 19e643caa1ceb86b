import CgroupFormats
import SystemPackage

/// `v1-end-of-life`: the node runs cgroup v1 (legacy, or hybrid with cgroup2 only beside the v1
/// hierarchies), which the ecosystem is dropping.
///
/// Decided the way kubelet, runc and containerd decide (`statfs("/sys/fs/cgroup")` ==
/// CGROUP2_SUPER_MAGIC means v2), from mountinfo so a capture replays: the mode is legacy or hybrid
/// and no `cgroup2` mount sits at /sys/fs/cgroup in the runtime's mount namespace.
///
/// Timeline (research/ecosystem.md §5; sources checked with the issue corpus):
/// - Kubernetes 1.31: v1 in maintenance mode (KEP-4569); kubelet warns "cgroup v1 support is in
///   maintenance mode, please migrate to cgroup v2".
/// - Kubernetes 1.35: `failCgroupV1` defaults to true (KEP-5573, kubernetes/kubernetes#134298,
///   "ACTION REQUIRED: failCgroupV1 will be set to true from 1.35"): the kubelet exits with
///   "kubelet is configured to not run on a host using cgroup v1" unless `failCgroupV1: false`;
///   kubeadm's preflight prints "[WARNING SystemVerification]: cgroups v1 support is deprecated ..."
///   (kubernetes/minikube#22315); k3s 1.35 is hit the same way (NVIDIA/OpenShell#360,
///   k0sproject/k0s#7398). Removal "no earlier than 1.38".
/// - systemd 256 (2024-06): "Support for cgroup v1 ('legacy' and 'hybrid' hierarchies) is now
///   considered obsolete and systemd by default will refuse to boot under it" unless
///   `SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1`; systemd 258 (2025-09): "Support for cgroup v1 ('legacy'
///   and 'hybrid' hierarchies) has been removed".
/// - containerd 2.2 and Docker 29 deprecate v1 (containerd/containerd#12445, moby/moby#51360);
///   containerd, Docker and runc keep maintaining it until at least May 2029
///   (containerd/containerd#12443, opencontainers/runc#4955, moby/moby#51111); `docker info`:
///   "WARNING: Support for cgroup v1 is deprecated and planned to be removed by no later than May
///   2029 (https://github.com/moby/moby/issues/51111)".
///
/// `info`: nothing breaks today on this node's current versions; it says what an upgrade will
/// break. Fixtures: every legacy/hybrid host (`sandbox-process-api-hybrid`,
/// `synthetic-cpu-mirror-unmounted`, `netdata-563-centos72-host`, `rhel8-jdk-cpuset-disabled`, ...);
/// not on `rpi5-k3s-9524-memory-disabled-v2` (unified) or `lxd-4247-named-unmounted` (nothing
/// mounted). Live: V1EndOfLifeLiveTests (this hybrid machine).
public struct V1EndOfLife: Check {
    public init() {}
    public let id = "v1-end-of-life"
    public let severity = Severity.info
    public let title = "the node runs cgroup v1: Kubernetes 1.35 kubelets refuse it by default, systemd 258 removed it"

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        let mode = snapshot.mode
        guard mode == .legacy || mode == .hybrid, let reference = snapshot.referenceNamespace else { return [] }
        let v2 = reference.mountInfo.entries.filter { $0.fileSystemType == "cgroup2" }
        if v2.contains(where: { $0.mountPoint == "/sys/fs/cgroup" }) { return [] }
        let v1 = reference.mountInfo.entries.filter { $0.fileSystemType == "cgroup" }

        var evidence: [Evidence] = []
        if let first = v1.first { evidence.append(Evidence(first, file: reference.mountInfo.file)) }
        evidence += v2.map { Evidence($0, file: reference.mountInfo.file) }
        evidence.append(
            Evidence(
                file: reference.mountInfo.file, line: nil,
                text: "/sys/fs/cgroup is not a cgroup2 mount (\(v1.count) cgroup v1 mount\(v1.count == 1 ? "" : "s") in the runtime's mount namespace \(reference.id))"))

        let layout = mode == .hybrid
            ? "hybrid: \(v1.count) cgroup v1 mount\(v1.count == 1 ? "" : "s"), cgroup2 only at \(v2.map(\.mountPoint.string).joined(separator: ", "))"
            : "legacy: \(v1.count) cgroup v1 mount\(v1.count == 1 ? "" : "s"), no cgroup2"
        let systemdPID1 = snapshot.initCommand == "systemd"
        var remediationText = "Move the node to cgroup v2 before upgrading Kubernetes to 1.35 or the OS to systemd ≥ 256: check that "
            + "runtimes and workloads support v2 (containerd ≥ 1.4, runc ≥ 1.0, Docker ≥ 20.10, CRI-O ≥ 1.20; OpenJDK ≥ 8u372 / "
            + "11.0.16 / 17; Node.js ≥ 20.3; automaxprocs ≥ 1.5.1; .NET ≥ 5; kernel ≥ 5.8 recommended), then boot with "
            + "systemd.unified_cgroup_hierarchy=1 and check that /sys/fs/cgroup is cgroup2fs. Until then, Kubernetes 1.35+ needs "
            + "failCgroupV1: false in the KubeletConfiguration (and kubeadm's SystemVerification preflight skipped)."
        if !systemdPID1 {
            remediationText += " PID 1 is \"\(snapshot.initCommand ?? "unknown")\", not systemd: the kernel parameter does nothing here; "
                + "change whatever mounts /sys/fs/cgroup (init scripts, cgroupfs-mount) to mount cgroup2 there instead."
        }
        return [
            Finding(
                id: id, severity: severity,
                summary: "this node runs cgroup v1 (\(layout)): Kubernetes 1.35+ kubelets refuse to start on it by default, systemd 256 refuses to boot it and systemd 258 removed it",
                explanation: "Kubelet, runc and containerd treat a node as cgroup v2 only when /sys/fs/cgroup itself is a cgroup2 "
                    + "filesystem; here it is not, so they use cgroup v1. cgroup v1 is being retired: Kubernetes put it in maintenance "
                    + "mode in 1.31 and makes the kubelet refuse it by default from 1.35 (failCgroupV1, KEP-5573); systemd 256 refuses "
                    + "to boot on it without SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 and 258 removed it; containerd 2.2, Docker 29 and "
                    + "runc deprecate it and maintain it until at least May 2029.",
                evidence: evidence,
                impacts: [
                    Impact(
                        consumer: "kubelet 1.35+ (failCgroupV1 defaults to true)", effect: "exits at startup",
                        message: "kubelet is configured to not run on a host using cgroup v1"),
                    Impact(
                        consumer: "kubeadm 1.35+ preflight", effect: "warns and needs the check skipped",
                        message: "[WARNING SystemVerification]: cgroups v1 support is deprecated and will be removed in a future release. Please migrate to cgroups v2. To explicitly enable cgroups v1 support for kubelet v1.35 or newer, you must set the kubelet configuration option 'FailCgroupV1' to 'false'. You must also explicitly skip this validation."),
                    Impact(
                        consumer: "kubelet 1.31-1.34", effect: "warns and emits a CgroupV1 event",
                        message: "cgroup v1 support is in maintenance mode, please migrate to cgroup v2"),
                    Impact(
                        consumer: "systemd 256-257 / 258+", effect: "refuses to boot v1 unless SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 / always boots cgroup v2",
                        message: nil),
                    Impact(
                        consumer: "Docker 29+ (docker info)", effect: "warns",
                        message: "WARNING: Support for cgroup v1 is deprecated and planned to be removed by no later than May 2029 (https://github.com/moby/moby/issues/51111)"),
                ],
                remediation: Remediation(
                    text: remediationText,
                    commands: [
                        "stat -fc %T /sys/fs/cgroup   # tmpfs: v1/hybrid; cgroup2fs: v2",
                        "sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1   # RHEL/Fedora; Debian/Ubuntu: add it to GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub",
                        "sudo reboot",
                        "# Kubernetes 1.35+ until then: add 'failCgroupV1: false' to /var/lib/kubelet/config.yaml, then: sudo systemctl restart kubelet",
                    ]),
                hostWide: true)
        ]
    }
}
