import CgroupFormats
import SystemPackage

/// `systemd-hierarchy-foreign`: a `name=systemd` v1 hierarchy exists (some `/proc/<pid>/cgroup`
/// lists `N:name=systemd:/...`) but PID 1 is not systemd.
///
/// Kernel: a named v1 hierarchy is created by the first `mount -t cgroup -o none,name=systemd` in
/// the initial cgroup namespace and lives while it is mounted somewhere or has child cgroups
/// (cgroups(7), "Unmounting v1 controllers"); `proc_cgroup_show()` lists it for every process of
/// every mount namespace. On a systemd host systemd creates it at boot (legacy/hybrid). When PID 1
/// is something else, another component created it (research/runtime-anchors.md §2, causes A and B):
/// cgmanager on Void/runit hosts (voidlinux/void-packages#9811, void-linux/void-packages#5402),
/// LXC/LXD preparing for systemd guests (canonical/lxd#4247: an OpenRC guest lists `name=systemd`
/// and `name=openrc`, mounts nothing), Docker Desktop's distro on WSL2, where every distro shares
/// one kernel (microsoft/WSL#4189, containerd/containerd#4441), runit/OpenRC/Devuan hosts running
/// Docker (moby/moby#38822: `12:name=systemd:/` with "systemd really shouldn't appear"). systemd's
/// own position (systemd/systemd#25626, https://systemd.io/CONTAINER_INTERFACE/): whoever sets up
/// the cgroup tree must keep `/sys/fs/cgroup` consistent with `/proc/self/cgroup`.
///
/// Severity policy (honest, not alarmist):
/// - `warning` when the hierarchy has no mount in the runtime's mount namespace: then
///   `hierarchy-not-mounted` already reports the failure as an error (containerd's v1 cgroup code:
///   "cgroups: cannot find cgroup mount destination"); this finding explains where the hierarchy
///   came from and how to stop it coming back (fstab line, stop cgmanager, WSL integration).
/// - `info` when it is mounted (this sandbox: PID 1 `process_api`, `name=systemd` mounted at
///   /sys/fs/cgroup/systemd): every runtime finds its mount, nothing breaks.
/// - nothing when PID 1 is itself in a container or pod (a capture or a run inside a container:
///   its `name=systemd` path is `/kubepods/...` or `/docker/<id>`), or a `name=systemd` mount's root
///   is not `/` (a container's bind mount of the host's hierarchy): the hierarchy is the host
///   systemd's. A container with a private cgroup namespace cannot be told from a non-systemd host
///   and gets the `info` finding; run cgdoctor on the host (hostPID) to avoid it.
///
/// Fixtures: `moby-38822-nonsystemd` and `lxd-4247-named-unmounted` (warning),
/// `sandbox-process-api-hybrid` (info, mounted); not on `likakuli-k8s-pod` (PID 1 is a pod's
/// java). Live: SystemdHierarchyForeignLiveTests (this machine, info).
public struct SystemdHierarchyForeign: Check {
    public init() {}
    public let id = "systemd-hierarchy-foreign"
    public let severity = Severity.warning
    public let title = "a name=systemd v1 hierarchy exists but PID 1 is not systemd (cgmanager, LXC/LXD, WSL2, runit/OpenRC hosts)"

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        guard let initCommand = snapshot.initCommand, initCommand != "systemd",
            let reference = snapshot.referenceNamespace
        else { return [] }
        // The line to quote: PID 1's, else the runtime's, else the first process listing it.
        var quoted: (pid: Int32, file: String, entry: CgroupEntry)?
        for process in snapshot.processes {
            guard let entry = process.cgroups.entries.first(where: { !$0.isUnified && $0.name == "systemd" }) else { continue }
            if process.pid == 1 {
                // PID 1 inside a container or pod: the hierarchy belongs to the host's systemd.
                let workload = Workload.classify(entry.path)
                if workload.container != nil || workload.pod != nil { return [] }
            }
            if quoted == nil || process.pid == 1 || (process.pid == snapshot.referencePID && quoted?.pid != 1) {
                quoted = (process.pid, process.cgroups.file, entry)
            }
        }
        guard let quoted else { return [] }
        let hierarchy = Hierarchy(quoted.entry)
        let mounts = reference.mountInfo.entries.filter { hierarchy.isMounted(by: $0) }
        // A bind mount of a sub-tree is a container's view of the host's hierarchy.
        if mounts.contains(where: { $0.root != "/" }) { return [] }
        let mounted = !mounts.isEmpty

        var evidence = [
            Evidence(quoted.entry, file: quoted.file),
            Evidence(file: "/proc/1/comm", line: 1, text: initCommand),
        ]
        if mounted {
            evidence += mounts.map { Evidence($0, file: reference.mountInfo.file) }
        } else {
            evidence.append(
                Evidence(
                    file: reference.mountInfo.file, line: nil,
                    text: "no cgroup mount carries name=systemd in the runtime's mount namespace \(reference.id)"))
        }

        let subject = "name=systemd (hierarchy \(hierarchy.id))"
        let creators = "cgmanager (Void/runit hosts), LXC/LXD (guests list it without systemd), Docker Desktop's distro on WSL2 "
            + "(all WSL2 distros share one kernel), or a container manager preparing for systemd guests"
        let explanation: String
        let impacts: [Impact]
        let remediation: Remediation
        if mounted {
            let at = mounts.map(\.mountPoint.string).joined(separator: ", ")
            explanation = "The kernel has a name=systemd v1 hierarchy although PID 1 is \"\(initCommand)\": systemd did not create it, "
                + "something else mounted -o none,name=systemd (\(creators)). It is mounted at \(at) in the runtime's mount namespace, "
                + "so runtimes that look up every line of /proc/<pid>/cgroup find it. Nothing breaks; this says where the line comes from."
            impacts = [
                Impact(
                    consumer: "containerd cgroup v1 code (PidPath/NestedPath), runc (opencontainers/cgroups)",
                    effect: "unaffected: the hierarchy has a mount here", message: nil),
                Impact(
                    consumer: "systemd running inside containers (systemd-in-Docker, LXC/LXD systemd guests)",
                    effect: "finds the name=systemd hierarchy it needs on a v1 host", message: nil),
            ]
            remediation = Remediation(
                text: "Nothing to do. If the mount should survive reboots on a host without systemd, make it permanent "
                    + "(fstab, as void-linux/void-packages#5402 does); if nothing should create name=systemd, find and stop the component "
                    + "that does (cgmanager, lxcfs/LXD, Docker Desktop's WSL integration).",
                commands: [
                    "cat /proc/1/comm   # not systemd",
                    "grep -n ':name=systemd:' /proc/self/cgroup",
                    "grep -w 'name=systemd' /proc/self/mountinfo",
                    "echo 'cgroup /sys/fs/cgroup/systemd cgroup none,name=systemd 0 0' | sudo tee -a /etc/fstab   # optional: keep it mounted after reboot",
                ])
        } else {
            explanation = "The kernel has a name=systemd v1 hierarchy although PID 1 is \"\(initCommand)\": it was created outside this "
                + "mount namespace by \(creators), and is not mounted in the runtime's mount namespace (\(reference.id)). "
                + "That is why hierarchy-not-mounted reports \(subject): containerd's v1 cgroup code fails on the first "
                + "/proc/<pid>/cgroup line it cannot find a mount for, and this line is always there."
            impacts = [
                Impact(
                    consumer: "containerd cgroup v1 code (containerd/cgroups PidPath/NestedPath), io.containerd.runtime.v1.linux (Docker up to 19.03)",
                    effect: "fails to start every task", message: "cgroups: cannot find cgroup mount destination: unknown"),
                Impact(
                    consumer: "runc (opencontainers/cgroups)",
                    effect: "unaffected: it ignores a missing name=systemd hierarchy (fs.NameGroup)", message: nil),
            ]
            remediation = Remediation(
                text: "Mount it in the runtime's mount namespace (the workaround of docker/for-linux#219, microsoft/WSL#4189), make it "
                    + "permanent, or stop what creates it: on Void, remove the cgmanager service (void-linux/void-packages#5402); on "
                    + "WSL2, run Docker from Docker Desktop's WSL integration instead of a second dockerd in the distro.",
                commands: [
                    "sudo mkdir -p /sys/fs/cgroup/systemd",
                    "sudo mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd",
                    "echo 'cgroup /sys/fs/cgroup/systemd cgroup none,name=systemd 0 0' | sudo tee -a /etc/fstab   # keep it after reboot",
                    "# Void/runit: sudo rm /var/service/cgmanager",
                ])
        }

        let finding = Finding(
            id: id, severity: mounted ? .info : .warning,
            summary: mounted
                ? "\(subject) exists although PID 1 is \"\(initCommand)\", not systemd; it is mounted at \(mounts.map(\.mountPoint.string).joined(separator: ", ")), so nothing breaks"
                : "\(subject) exists although PID 1 is \"\(initCommand)\", not systemd, and has no mount in the runtime's mount namespace (\(reference.mountInfo.file)): another component created it",
            explanation: explanation,
            evidence: evidence,
            impacts: impacts,
            remediation: remediation,
            hierarchy: hierarchy,
            hostWide: !mounted)
        return [finding]
    }
}
