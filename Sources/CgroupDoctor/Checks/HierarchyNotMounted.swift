import CgroupFormats
import SystemPackage

/// `hierarchy-not-mounted`: a v1 hierarchy that `/proc/<pid>/cgroup` lists but that no `cgroup`
/// mount in the runtime's mount namespace (the reference pid's, PID 1 by default) carries.
///
/// Kernel: `proc_cgroup_show()` prints every live hierarchy, mounted or not. An unmounted v1
/// hierarchy stays alive while it has child cgroups (`cgroup_kill_sb()` only kills a root without
/// children; cgroups(7), "Unmounting v1 controllers"), so `umount` of a named hierarchy with
/// children leaves `N:name=X:/...` in every process's cgroup file and no line in any mountinfo.
/// Other producers: cgmanager/LXC creating `name=systemd` on non-systemd hosts, WSL2 distros
/// sharing a kernel with Docker Desktop, Docker-in-Docker playgrounds.
///
/// Runtime: containerd/cgroups v1 `PidPath`/`NestedPath` → `existingPath` → `getCgroupDestination`
/// looks for a `cgroup` mount with the exact super-option token for every line and returns the
/// sentinel "cgroups: cannot find cgroup mount destination" (unchanged since 2017; containerd
/// 1.0.0–1.0.2 spelt it "cannot found"). Fatal in `io.containerd.runtime.v1.linux` (Docker up to
/// 19.03); the runc v2 shim only logs "loading cgroup for <pid>". runc / opencontainers/cgroups skip
/// unmounted hierarchies except `devices` ("mountpoint for devices not found").
///
/// Fixtures: `synthetic-cpu-mirror-unmounted`, `lxd-4247-named-unmounted`, `moby-38822-nonsystemd`
/// (Tests/CgroupDoctorTests/Fixtures/hosts); live: LiveKernelTests.
public struct HierarchyNotMounted: Check {
    public init() {}
    public let id = "hierarchy-not-mounted"
    public let severity = Severity.error
    public let title = "a v1 hierarchy listed in /proc/<pid>/cgroup has no cgroup mount in the runtime's mount namespace"

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        guard let reference = snapshot.referenceNamespace else { return [] }
        let referenceMounts = reference.mountInfo.entries
        var findings: [Finding] = []
        for hierarchy in snapshot.listedHierarchies where !hierarchy.isUnified {
            if referenceMounts.contains(where: { hierarchy.isMounted(by: $0) }) { continue }
            findings.append(finding(for: hierarchy, snapshot: snapshot, reference: reference))
        }
        return findings
    }

    private func finding(for hierarchy: Hierarchy, snapshot: HostSnapshot, reference: MountNamespace) -> Finding {
        var listing = 0
        var below: [AffectedProcess] = []
        var belowEvidence: Evidence?
        var rootEvidence: Evidence?
        for process in snapshot.processes {
            guard let entry = process.cgroups.entries.first(where: { $0.hierarchyID == hierarchy.id }) else { continue }
            listing += 1
            if entry.path != "/" {
                below.append(
                    AffectedProcess(
                        pid: process.pid, command: snapshot.command(of: process.pid), cgroupPath: entry.path.string,
                        workload: Workload.of(process.cgroups)))
                if belowEvidence == nil { belowEvidence = Evidence(entry, file: process.cgroups.file) }
            } else if rootEvidence == nil || process.pid == snapshot.referencePID {
                rootEvidence = Evidence(entry, file: process.cgroups.file)
            }
        }
        // Quote a process inside a child cgroup when there is one: it shows why the hierarchy survived.
        let firstEvidence = belowEvidence ?? rootEvidence

        var elsewhere: [NamespaceMount] = []
        for namespace in snapshot.namespaces where namespace.id != reference.id {
            for mount in namespace.mountInfo.entries where hierarchy.isMounted(by: mount) {
                elsewhere.append(
                    NamespaceMount(
                        namespace: namespace.id, pid: namespace.holderPID, command: namespace.holderCommand,
                        mountPoint: mount.mountPoint.string, evidence: Evidence(mount, file: namespace.mountInfo.file)))
            }
        }

        let tokens = hierarchy.requiredSuperOptions.joined(separator: ",")
        let cgroupMountCount = reference.cgroupMounts.count
        var evidence: [Evidence] = []
        if let firstEvidence { evidence.append(firstEvidence) }
        evidence.append(
            Evidence(
                file: reference.mountInfo.file, line: nil,
                text: "no cgroup mount carries \(tokens) (\(cgroupMountCount) cgroup mount\(cgroupMountCount == 1 ? "" : "s") in the runtime's mount namespace \(reference.id))"))
        for entry in snapshot.controllers?.entries ?? [] where entry.hierarchyID == hierarchy.id {
            evidence.append(Evidence(file: snapshot.controllers?.file ?? "/proc/cgroups", line: entry.line, text: entry.text))
        }
        evidence += elsewhere.map(\.evidence)

        let subject = "hierarchy \(hierarchy.id) (\(hierarchy.label))"
        let whereMounted: String
        let why: String
        if elsewhere.isEmpty {
            whereMounted = "mounted in no mount namespace on this host"
            why = "The kernel still lists \(subject) in every /proc/<pid>/cgroup, but no mountinfo line mounts it. "
                + "A cgroup v1 hierarchy that is unmounted while it still has child cgroups stays alive (cgroups(7), "
                + "\"Unmounting v1 controllers\"): this one most likely survived a umount"
                + (below.isEmpty ? " and still has (empty) child cgroups." : ", and \(below.count) process(es) still sit in its child cgroups.")
        } else {
            let holders = elsewhere.map { "pid \($0.pid)\($0.command.map { " (\($0))" } ?? "") at \($0.mountPoint) in \($0.namespace)" }
            whereMounted = "mounted only in another mount namespace: " + holders.joined(separator: "; ")
            why = "\(subject) is mounted in a private mount namespace but not in the runtime's (\(reference.id), pid "
                + "\(reference.holderPID)\(reference.holderCommand.map { " \($0)" } ?? "")). Runtimes look only at their own mountinfo."
        }

        var impacts = [
            Impact(
                consumer: "containerd cgroup v1 code (containerd/cgroups PidPath/NestedPath), io.containerd.runtime.v1.linux (Docker up to 19.03)",
                effect: "fails to start every task",
                message: "cgroups: cannot find cgroup mount destination: unknown"),
            Impact(
                consumer: "containerd io.containerd.runc.v2 shim",
                effect: "logs the error and runs the container without cgroup metrics",
                message: "loading cgroup for <pid>: cgroups: cannot find cgroup mount destination"),
        ]
        if hierarchy.controllers.contains(.devices) {
            impacts.append(Impact(consumer: "runc (opencontainers/cgroups)", effect: "fails to create containers", message: "mountpoint for devices not found"))
        } else if hierarchy.controllers.isEmpty {
            impacts.append(Impact(consumer: "runc (opencontainers/cgroups)", effect: "unaffected: it never looks up arbitrary named hierarchies", message: nil))
        } else {
            let names = hierarchy.controllers.map(\.rawValue).joined(separator: ",")
            impacts.append(Impact(consumer: "runc (opencontainers/cgroups)", effect: "skips the \(names) controller(s): limits in it are not applied", message: nil))
        }

        return Finding(
            id: id, severity: severity,
            summary: "\(subject) is listed by \(listing) process\(listing == 1 ? "" : "es") but has no cgroup mount in the runtime's mount namespace (\(reference.mountInfo.file)); \(whereMounted)",
            explanation: why,
            evidence: evidence,
            affected: below,
            impacts: impacts,
            remediation: remediation(for: hierarchy, mountedElsewhere: !elsewhere.isEmpty),
            hierarchy: hierarchy,
            mountedElsewhere: elsewhere,
            hostWide: true)
    }

    private func remediation(for hierarchy: Hierarchy, mountedElsewhere: Bool) -> Remediation {
        // `-o name=X` re-attaches whatever controllers X carries; `-o none,name=X` fails with EBUSY
        // when it has some (cgroup1_root_to_use: the mask must match).
        let options = hierarchy.name.map { "name=\($0)" } ?? hierarchy.controllers.map(\.rawValue).joined(separator: ",")
        let directory = hierarchy.name ?? hierarchy.controllers.map(\.rawValue).joined(separator: ",")
        var commands = [
            "mkdir -p /sys/fs/cgroup/\(directory)",
            "mount -t cgroup -o \(options) cgroup /sys/fs/cgroup/\(directory)",
        ]
        var text = "Re-attach it in the runtime's mount namespace: containerd only needs some cgroup mount carrying \(options) "
            + "(if /sys/fs/cgroup is a read-only tmpfs, mount it on any other directory)."
        if let name = hierarchy.name, name != "systemd" || hierarchy.controllers.isEmpty {
            text += " Or destroy it if nothing needs it: mount it, move every task to its root, remove its child cgroups deepest "
                + "first, unmount, and check that it is gone (destruction is asynchronous; repeat if it is still listed)."
            commands += [
                "# or destroy it:",
                "d=$(mktemp -d /run/cgdoctor-\(name).XXXXXX) && mount -t cgroup -o name=\(name) cgroup \"$d\"",
                "find \"$d\" -mindepth 2 -name cgroup.procs -exec cat {} + | while read -r p; do echo \"$p\" > \"$d/cgroup.procs\" 2>/dev/null; done",
                "find \"$d\" -mindepth 1 -depth -type d -exec rmdir {} \\;",
                "sleep 1; umount \"$d\"",
                "# destruction is asynchronous: a child still dying at umount keeps the hierarchy alive; re-mount and unmount until it is gone",
                "for i in 1 2 3 4 5; do grep -q ':name=\(name):' /proc/self/cgroup || break; sleep 1; mount -t cgroup -o name=\(name) cgroup \"$d\" && umount \"$d\"; done; rmdir \"$d\"",
                "grep -c ':name=\(name):' /proc/self/cgroup   # 0 when destroyed",
            ]
        }
        if mountedElsewhere {
            text += " It is mounted in another process's private mount namespace; mounting it in the runtime's namespace too is safe."
        }
        return Remediation(text: text, commands: commands)
    }
}
