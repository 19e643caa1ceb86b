import CgroupFormats
import SystemPackage

/// `ghost-unified-line`: `/proc/<pid>/cgroup` has a `0::` line but the runtime's mount namespace
/// has no `cgroup2` mount.
///
/// Kernel: `proc_cgroup_show()` skips the v2 hierarchy only while `cgrp_dfl_visible` is false; the
/// first `cgroup2` mount anywhere (any mount namespace, any container) sets it for good
/// (`cgroup_get_tree()`), and the v2 root is never destroyed (`cgroup_kill_sb()` spares
/// `cgrp_dfl_root`). So after `mount -t cgroup2 ...; umount ...`, or a cgroup2 mount in some other
/// namespace, every process shows `0::/...` until reboot. canonical/snapd PR #9141 "tests: cope with
/// ghost cgroupv2" (2020-08): "User-space is expected to cross-verify if the controller is mounted
/// before using it."
///
/// Consumers: containerd/cgroups drops the `0::` line from its v1 map since fe1947308 (2017-07-10,
/// first in containerd v1.0.0; before, the empty controller never matched a mount and the lookup
/// failed like an unmounted hierarchy). Tools that take a `0::` line as proof that cgroup v2 is
/// mounted (snapd's tests before #9141) look for a mount that is not there.
///
/// `info`: nothing breaks for current runtimes; it explains a confusing line.
/// Fixtures: `lxd-4247-named-unmounted` (`0::/`, no mounts at all); not on
/// `sandbox-process-api-hybrid` (cgroup2 at /sys/fs/cgroup/unified). Live: GhostUnifiedLineLiveTests
/// (this machine, /sys/fs/cgroup/unified unmounted inside a private mount namespace).
public struct GhostUnifiedLine: Check {
    public init() {}
    public let id = "ghost-unified-line"
    public let severity = Severity.info
    public let title = "a 0:: line in /proc/<pid>/cgroup but no cgroup2 mount in the runtime's mount namespace"

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        guard let reference = snapshot.referenceNamespace,
            !reference.mountInfo.entries.contains(where: { $0.fileSystemType == "cgroup2" })
        else { return [] }
        var quoted: (pid: Int32, file: String, entry: CgroupEntry)?
        var listing = 0
        for process in snapshot.processes {
            guard let entry = process.cgroups.unified else { continue }
            listing += 1
            if quoted == nil || process.pid == snapshot.referencePID { quoted = (process.pid, process.cgroups.file, entry) }
        }
        guard let quoted else { return [] }

        var elsewhere: [NamespaceMount] = []
        for namespace in snapshot.namespaces where namespace.id != reference.id {
            for mount in namespace.mountInfo.entries where mount.fileSystemType == "cgroup2" {
                elsewhere.append(
                    NamespaceMount(
                        namespace: namespace.id, pid: namespace.holderPID, command: namespace.holderCommand,
                        mountPoint: mount.mountPoint.string, evidence: Evidence(mount, file: namespace.mountInfo.file)))
            }
        }
        let count = reference.cgroupMounts.count
        var evidence = [
            Evidence(quoted.entry, file: quoted.file),
            Evidence(
                file: reference.mountInfo.file, line: nil,
                text: "no cgroup2 mount in the runtime's mount namespace \(reference.id) (\(count) cgroup mount\(count == 1 ? "" : "s") there)"),
        ]
        evidence += elsewhere.map(\.evidence)

        let origin = elsewhere.isEmpty
            ? "cgroup2 was mounted somewhere at some point (another mount namespace, a container, or a mount that was since unmounted)"
            : "cgroup2 is mounted in another mount namespace: "
                + elsewhere.map { "pid \($0.pid)\($0.command.map { " (\($0))" } ?? "") at \($0.mountPoint)" }.joined(separator: "; ")
        return [
            Finding(
                id: id, severity: severity,
                summary: "\(listing) process\(listing == 1 ? " lists" : "es list") the cgroup v2 hierarchy (\"\(quoted.entry.text)\") but the runtime's mount namespace has no cgroup2 mount (\(reference.mountInfo.file))",
                explanation: "The kernel starts printing the \"0::\" line for every process the first time cgroup2 is mounted anywhere, and "
                    + "never stops until reboot; here \(origin). The line does not mean cgroup v2 is usable in this mount namespace: "
                    + "cgroup v2 files are reachable only through a cgroup2 mount.",
                evidence: evidence,
                impacts: [
                    Impact(
                        consumer: "containerd cgroup v1 code, runc", effect: "unaffected: they ignore the 0:: line on v1 hosts",
                        message: nil),
                    Impact(
                        consumer: "tools that take a 0:: line as proof of a cgroup2 mount (snapd's tests before PR #9141)",
                        effect: "look for cgroup v2 files that are not mounted here", message: nil),
                ],
                remediation: Remediation(
                    text: "Nothing is broken and the line stays until reboot. If a tool here needs the cgroup v2 hierarchy, mount it "
                        + "(the usual place on a hybrid host is /sys/fs/cgroup/unified).",
                    commands: [
                        "grep -n '^0::' /proc/self/cgroup",
                        "grep -w cgroup2 /proc/self/mountinfo   # empty",
                        "sudo mkdir -p /sys/fs/cgroup/unified && sudo mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified   # only if something needs it",
                    ]),
                hierarchy: Hierarchy(quoted.entry),
                mountedElsewhere: elsewhere)
        ]
    }
}
