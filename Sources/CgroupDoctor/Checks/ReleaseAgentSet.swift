import CgroupFormats
import SystemPackage

/// `release-agent-set`: a cgroup v1 hierarchy whose `release_agent` is set to a program that
/// neither systemd nor cgmanager installed.
///
/// Kernel (Documentation/admin-guide/cgroup-v1/cgroups.rst, "notify_on_release"): when the last
/// task leaves a cgroup whose `notify_on_release` is 1, the kernel runs the hierarchy's
/// `release_agent` (one per hierarchy, in its root) through `call_usermodehelper`: as full root in
/// the initial namespaces. Writing `release_agent` once needed only CAP_SYS_ADMIN in the user
/// namespace of the writer, so root in a container could `unshare -UrmC`, mount a v1 hierarchy
/// (`mount -t cgroup -o rdma cgroup /mnt`) and point the agent at a script in its overlay upper
/// directory: CVE-2022-0492 (Unit 42, https://unit42.paloaltonetworks.com/cve-2022-0492-cgroups/;
/// Azure/AKS#2834). Fixed by 24f600856418 ("cgroup-v1: Require capabilities to set
/// release_agent", Eric W. Biederman, 5.17-rc3; stable 4.9.301, 4.14.266, 4.19.229 and the other
/// February 2022 stable lines; RHEL 9 5.14.0-70.el9) and 467a726b754f (Michal Koutný: check the
/// opener's capabilities in the init user namespace). On fixed kernels the write fails with
/// "Permission denied" (Metarget/metarget#121). Privileged containers (CAP_SYS_ADMIN) can still do
/// it on every kernel. The agent is per hierarchy, so a value written through a container's mount
/// of an existing hierarchy is the host's value too; cgroup v2 has no release_agent.
///
/// What sets one legitimately: systemd on legacy hosts installs `<libexecdir>/systemd-cgroups-agent`
/// on `name=systemd` (src/core/cgroup.c `manager_setup_cgroup`, only while the systemd hierarchy is
/// v1); cgmanager (Ubuntu 14.04-16.04, LXC) installs `/run/cgmanager/agents/cgm-release-agent.<c>`
/// on every controller. Neither is reported. runc, containerd, Docker, CRI-O and kubelet never set
/// one. Policy: any other agent is a warning (someone set it: an agent, a leftover, or an escape);
/// an agent inside container storage (`/var/lib/docker/`, `/var/lib/containerd/`,
/// `/var/lib/containers/`, `/run/containerd/`, `/var/lib/kubelet/`, `/var/lib/rancher/`, `/run/k3s/`)
/// is an error: it is the signature of the CVE-2022-0492 / privileged-container escape.
///
/// Evidence: `<mount point>/release_agent` (read by the scanner for hierarchies mounted with root
/// `/` in the runtime's namespace) and the `release_agent=` super option in mountinfo, which the
/// kernel prints for every mount of the hierarchy (`cgroup1_show_options`).
///
/// Fixtures: `cve-2022-0492-release-agent` (error); clean: `netdata-563-centos72-host` (real
/// CentOS 7 mountinfo with systemd's agent). Live: ReleaseAgentLiveTests.
public struct ReleaseAgentSet: Check {
    public init() {}
    public let id = "release-agent-set"
    public let severity = Severity.error
    public let title = "a cgroup v1 hierarchy has a release_agent that systemd or cgmanager did not install (CVE-2022-0492 escape path)"

    /// Directories whose files belong to containers' filesystems (overlay upper dirs, snapshots).
    static let containerStorage = [
        "/var/lib/docker/", "/var/lib/containerd/", "/var/lib/containers/", "/run/containerd/", "/var/lib/kubelet/",
        "/var/lib/rancher/", "/run/k3s/",
    ]

    /// True for the agents systemd and cgmanager install.
    public static func isExpected(agent: String, hierarchy: Hierarchy) -> Bool {
        let base = agent.split(separator: "/").last.map(String.init) ?? agent
        if base == "systemd-cgroups-agent" { return hierarchy.name == "systemd" && hierarchy.controllers.isEmpty }
        return agent.hasPrefix("/run/cgmanager/agents/cgm-release-agent.")
    }

    private struct Seen {
        var hierarchy: Hierarchy
        var agent: String
        var mountPoint: String?
        var evidence: [Evidence]
        /// Other mount namespaces that mount the whole hierarchy (root `/`): where the agent can be rewritten.
        var elsewhere: [NamespaceMount] = []
    }

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        var seen: [Int: Seen] = [:]
        for root in snapshot.hierarchyRoots {
            guard let agent = root.releaseAgent, !agent.isEmpty else { continue }
            seen[root.hierarchy.id] = Seen(
                hierarchy: root.hierarchy, agent: agent, mountPoint: root.mount.mountPoint.string,
                evidence: [Evidence(file: root.mount.mountPoint.appending("release_agent").string, line: 1, text: agent)])
        }
        // mountinfo shows the agent for every mount of the hierarchy, also where the file was not read.
        let hierarchies = snapshot.hierarchies.filter { !$0.isUnified }
        for namespace in snapshot.namespaces {
            for mount in namespace.mountInfo.entries where mount.fileSystemType == "cgroup" {
                guard let option = mount.superOptions.first(where: { $0.hasPrefix("release_agent=") }),
                    let hierarchy = hierarchies.first(where: { $0.isMounted(by: mount) })
                else { continue }
                let agent = String(option.dropFirst("release_agent=".count))
                let line = Evidence(mount, file: namespace.mountInfo.file)
                let isReference = namespace.id == snapshot.referenceNamespace?.id
                if seen[hierarchy.id] == nil {
                    guard !agent.isEmpty else { continue }
                    seen[hierarchy.id] = Seen(
                        hierarchy: hierarchy, agent: agent, mountPoint: isReference ? mount.mountPoint.string : nil, evidence: [])
                }
                guard var known = seen[hierarchy.id] else { continue }
                // One line of the runtime's mountinfo (the value is the hierarchy's), and every other
                // namespace that mounts the whole hierarchy: that is where it can be rewritten.
                if isReference {
                    if !known.evidence.contains(where: { $0.file == namespace.mountInfo.file }) { known.evidence.append(line) }
                } else if mount.root == "/" {
                    known.evidence.append(line)
                    known.elsewhere.append(
                        NamespaceMount(
                            namespace: namespace.id, pid: namespace.holderPID, command: namespace.holderCommand,
                            mountPoint: mount.mountPoint.string, evidence: line))
                }
                seen[hierarchy.id] = known
            }
        }
        return seen.keys.sorted().compactMap { key in
            guard let s = seen[key], !Self.isExpected(agent: s.agent, hierarchy: s.hierarchy) else { return nil }
            return finding(s)
        }
    }

    private func finding(_ s: Seen) -> Finding {
        let inContainer = Self.containerStorage.contains { s.agent.hasPrefix($0) || s.agent.contains("/overlay2/") }
        let subject = "hierarchy \(s.hierarchy.id) (\(s.hierarchy.label))"
        let directory = s.mountPoint ?? "<a mount of \(s.hierarchy.label)>"
        var summary = "release_agent of \(subject) is \"\(s.agent)\": the kernel runs it as root on the host whenever a "
            + "cgroup of this hierarchy with notify_on_release=1 empties"
        if inContainer { summary += "; the program lives in container storage (container escape)" }
        var why = "Only systemd (name=systemd, legacy hosts) and cgmanager install release agents; container runtimes and "
            + "kubelet never do. The agent is per hierarchy, so a value written through any mount of it, including a "
            + "container's, applies to the whole host. Setting it from a container is the CVE-2022-0492 escape (kernels "
            + "before 5.17 without 24f600856418 let root in a new user namespace write it) and the classic "
            + "privileged-container escape (CAP_SYS_ADMIN, every kernel)."
        if inContainer {
            why += " This agent is a file inside a container's filesystem: treat the node as compromised."
        }
        let impacts = [
            Impact(
                consumer: "kernel (cgroup v1 release notification)",
                effect: "runs \"\(s.agent) <cgroup path>\" as root in the initial namespaces when a cgroup with notify_on_release=1 empties",
                message: nil),
            Impact(
                consumer: "containers with root and user namespaces, on kernels without the CVE-2022-0492 fix",
                effect: "can rewrite it after unshare -UrmC and escape to host root; fixed kernels refuse the write",
                message: "Permission denied"),
        ]
        let file = s.mountPoint.map { "\($0)/release_agent" } ?? "<mount point>/release_agent"
        var commands = [
            "cat \(file); ls -l \(s.agent); head -c 512 \(s.agent)   # what would run",
            "find \(directory) -name notify_on_release -exec grep -l '^1' {} +   # cgroups that trigger it",
            "echo > \(file)   # clear it (needs CAP_SYS_ADMIN in the initial user namespace)",
            "uname -r   # CVE-2022-0492 is fixed in 5.17+ and in stable/distro kernels with 24f600856418",
        ]
        if s.mountPoint == nil {
            let options = s.hierarchy.name.map { "name=\($0)" } ?? s.hierarchy.controllers.map(\.rawValue).joined(separator: ",")
            commands.insert("d=$(mktemp -d) && mount -t cgroup -o \(options) cgroup \"$d\"   # then use \"$d\" as the mount point below", at: 0)
        }
        commands.append(
            "sysctl user.max_user_namespaces   # 0 closes the unshare -U path if no workload needs user namespaces (rootless containers do)")
        return Finding(
            id: id, severity: inContainer ? .error : .warning, summary: summary, explanation: why, evidence: s.evidence,
            impacts: impacts,
            remediation: Remediation(
                text: "Find out who set it and what the program does. If nothing on the host needs it, clear it and reset "
                    + "notify_on_release. Run a kernel with the CVE-2022-0492 fix, keep seccomp/AppArmor profiles that block "
                    + "unshare and mount in containers, do not run privileged containers, and move to cgroup v2 (no release_agent)."
                    + (inContainer ? " The agent is inside container storage: isolate the node and investigate the container that wrote it." : ""),
                commands: commands),
            hierarchy: s.hierarchy, mountedElsewhere: s.elsewhere, hostWide: true)
    }
}
