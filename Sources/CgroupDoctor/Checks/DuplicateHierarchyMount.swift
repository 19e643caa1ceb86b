import CgroupFormats
import SystemPackage

/// `duplicate-hierarchy-mount`: one cgroup hierarchy mounted more than once in one mount
/// namespace. Harmless (info) while every mount has the same root: whichever a consumer picks,
/// it sees the same directories. A warning when the mounts have different roots AND the consumers
/// pick different ones: the same process's cgroup then maps to different directories in different
/// consumers.
///
/// Who picks what (v1; research/consumers.md, research/runtime-anchors.md §1.1, §1.5):
/// - containerd/cgroups v1 `getCgroupDestination`: the first mountinfo line of fs type `cgroup`
///   carrying the token, and only its root is used (`Rel(root, path)`).
/// - runc / opencontainers/cgroups `FindCgroupMountpoint("/sys/fs/cgroup", s)`: `tryDefaultPath`
///   (`/sys/fs/cgroup/<s>` when that is a cgroup mount point, symlinks such as `cpu -> cpu,cpuacct`
///   followed), else the first mount whose mount point has the prefix `/sys/fs/cgroup`;
///   `GetOwnCgroupPath` (nested containers) takes the first line, like containerd (`v1_utils.go`).
///   runc only looks up its controllers and `name=systemd`.
/// - HotSpot (cpu, cpuacct, cpuset, memory, pids only): since JDK-8253435 (16, cpuset) and
///   JDK-8293472 (20, all; backported to 17u/11u/8u) the first mount under `/sys/fs/cgroup`, else
///   the last line ("Duplicate %s controllers detected. Picking %s, skipping %s."); before them the
///   last line wins.
/// - Go runtime 1.25: the first `cgroup` line carrying `cpu` (cgroup2: the last cgroup2 line); 1.26:
///   the mount whose root contains the process's path.
/// - cadvisor: the first mount; systemd: `/sys/fs/cgroup/<controller>`, hard-coded.
/// - uber-go/automaxprocs translates EVERY mount of every subsystem and fails as soon as one root
///   does not contain the process's path ("path ... is not a descendant of mount point root ...").
///
/// Offline, cgdoctor cannot follow the `/sys/fs/cgroup/cpu -> cpu,cpuacct` symlink runc's default
/// path uses; it treats `/sys/fs/cgroup/<a,b>` as the default path of each of `a` and `b`, which is
/// what systemd's symlinks point to.
///
/// Fixtures: `bedrock-v1-duplicated-mounts` (opencontainers/cgroups, ×5, info),
/// `runc-find-mountpoint-by-prefix` (devices twice, info), `jdk-duplicate-cpu-other-root`
/// (constructed from the OpenJDK v1-duplicate-cpu-first case, warning); live: DuplicateHierarchyMountLiveTests.
public struct DuplicateHierarchyMount: Check {
    public init() {}
    public let id = "duplicate-hierarchy-mount"
    public let severity = Severity.warning
    public let title = "a cgroup hierarchy mounted more than once in one mount namespace (warning when runtimes would pick mounts with different roots)"

    /// One consumer's choice among the duplicates.
    struct Pick: Sendable, Hashable {
        var consumer: String
        /// Index into the duplicate mounts; nil: the consumer finds none of them or does not look.
        var mount: Int?
        var note: String
    }

    private struct Group {
        var hierarchy: Hierarchy
        var mounts: [MountEntry]
        var picks: [Pick]
        var namespaces: [MountNamespace] = []
        var runtimeNamespace = false
        var runtimeNamespaceID: String?
        var affected: [AffectedProcess] = []
    }

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        let sample = snapshot.process(snapshot.referencePID) ?? snapshot.processes.first
        var hierarchies = (sample?.cgroups.entries ?? []).filter { !$0.isUnified }.map(Hierarchy.init).sorted()
        hierarchies.insert(Hierarchy(id: 0, controllers: [], name: nil), at: 0)
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        var groupsOfNamespace: [String: [Int]] = [:]
        for namespace in snapshot.namespaces {
            let cgroupMounts = namespace.cgroupMounts
            for hierarchy in hierarchies {
                let mounts = cgroupMounts.filter { hierarchy.isMounted(by: $0) }
                guard mounts.count > 1 else { continue }
                let key = "\(hierarchy.id)\u{0}" + mounts.map { "\($0.root.string) \($0.mountPoint.string)" }.joined(separator: "\u{0}")
                let at: Int
                if let existing = groupIndex[key] {
                    at = existing
                } else {
                    at = groups.count
                    groupIndex[key] = at
                    groups.append(Group(hierarchy: hierarchy, mounts: mounts, picks: Self.picks(hierarchy, mounts)))
                }
                groups[at].namespaces.append(namespace)
                if namespace.holderPID == snapshot.referencePID {
                    groups[at].runtimeNamespace = true
                    groups[at].runtimeNamespaceID = namespace.id
                } else {
                    groupsOfNamespace[namespace.id, default: []].append(at)
                }
            }
        }
        // Container processes see different directories only when the picks disagree on the root.
        if !groupsOfNamespace.isEmpty {
            for process in snapshot.processes {
                guard let namespace = process.mountNamespace, let indices = groupsOfNamespace[namespace] else { continue }
                for at in indices where Self.rootsDisagree(groups[at]) {
                    let path = process.cgroups.entries.first { $0.hierarchyID == groups[at].hierarchy.id }?.path ?? "/"
                    groups[at].affected.append(
                        AffectedProcess(
                            pid: process.pid, command: snapshot.command(of: process.pid), cgroupPath: path.string,
                            workload: Workload.of(process.cgroups)))
                }
            }
        }
        return groups.map { finding(for: $0) }
    }

    private static func rootsDisagree(_ group: Group) -> Bool {
        let roots = Set(group.picks.compactMap { $0.mount.map { group.mounts[$0].root } })
        return roots.count > 1
    }

    /// What each consumer picks among `mounts` (all mounts of `hierarchy` in one namespace, in file order).
    static func picks(_ hierarchy: Hierarchy, _ mounts: [MountEntry]) -> [Pick] {
        let last = mounts.count - 1
        let underDefault = mounts.indices.first { mounts[$0].mountPoint.string.hasPrefix("/sys/fs/cgroup") }
        if hierarchy.isUnified {
            let atDefault = mounts.indices.last { mounts[$0].mountPoint == "/sys/fs/cgroup" }
            return [
                Pick(
                    consumer: "containerd/cgroups cgroup2, runc (fs2)", mount: atDefault,
                    note: atDefault != nil ? "use /sys/fs/cgroup, hard-coded" : "use /sys/fs/cgroup, hard-coded (not cgroup2 here: they run in v1 mode)"),
                Pick(consumer: "HotSpot 15+", mount: underDefault ?? last, note: "first mount under /sys/fs/cgroup, else the last"),
                Pick(consumer: "Go runtime 1.25", mount: last, note: "last cgroup2 line"),
            ]
        }
        var result = [
            Pick(consumer: "containerd/cgroups v1 (getCgroupDestination), runc GetOwnCgroupPath, cadvisor", mount: 0, note: "first mountinfo line carrying the token")
        ]
        // runc's fast path: /sys/fs/cgroup/<subsystem>, the top mount there if stacked; symlinks
        // like cpu -> cpu,cpuacct are modelled by the comma-joined directory name.
        let subsystem = hierarchy.controllers.first?.rawValue ?? hierarchy.name
        if let subsystem, hierarchy.controllers.first != nil || subsystem == "systemd" {
            let defaultPath = mounts.indices.last { index in
                let mountPoint = mounts[index].mountPoint
                guard mountPoint.removingLastComponent() == "/sys/fs/cgroup", let base = mountPoint.lastComponent?.string else { return false }
                return base == subsystem || base.split(separator: ",").contains(Substring(subsystem))
            }
            result.append(
                Pick(
                    consumer: "runc / opencontainers/cgroups (FindCgroupMountpoint)", mount: defaultPath ?? underDefault,
                    note: defaultPath != nil ? "tryDefaultPath /sys/fs/cgroup/\(subsystem)" : "first mount under /sys/fs/cgroup"))
        } else {
            result.append(Pick(consumer: "runc / opencontainers/cgroups", mount: nil, note: "never looks up this named hierarchy"))
        }
        let jdkControllers: Set<Controller> = [.cpu, .cpuacct, .cpuset, .memory, .pids]
        if hierarchy.controllers.contains(where: { jdkControllers.contains($0) }) {
            result.append(
                Pick(
                    consumer: "HotSpot with JDK-8293472 (20+, 17u/11u/8u backports; cpuset since JDK-8253435, 16)",
                    mount: underDefault ?? last, note: "first mount under /sys/fs/cgroup, else the last"))
            result.append(Pick(consumer: "HotSpot before JDK-8293472", mount: last, note: "last line wins"))
        }
        if hierarchy.controllers.contains(.cpu) {
            result.append(Pick(consumer: "Go runtime 1.25", mount: 0, note: "first cgroup line carrying cpu"))
        }
        return result
    }

    private func finding(for group: Group) -> Finding {
        let hierarchy = group.hierarchy
        let subject = "hierarchy \(hierarchy.id) (\(hierarchy.label))"
        let disagree = Self.rootsDisagree(group)
        let namespaces = group.namespaces.map { "\($0.id)\($0.id == group.runtimeNamespaceID ? " (the runtime's)" : "")" }
        let roots = Array(Set(group.mounts.map(\.root.string))).sorted()
        let summary = "\(subject) is mounted \(group.mounts.count) times (\(group.mounts.map(\.mountPoint.string).joined(separator: ", "))) "
            + "in \(group.namespaces.count == 1 ? "mount namespace \(namespaces[0])" : "\(group.namespaces.count) mount namespaces")"
            + (roots.count == 1 ? ", all with root \(roots[0])" : " with roots \(roots.joined(separator: ", "))")
            + (disagree ? "; runtimes pick mounts with different roots" : "")

        let file = group.namespaces[0].mountInfo.file
        var evidence = group.mounts.map { Evidence($0, file: file) }
        for namespace in group.namespaces.dropFirst().prefix(2) {
            evidence.append(Evidence(file: namespace.mountInfo.file, line: nil, text: "the same \(group.mounts.count) mounts (\(namespace.id))"))
        }

        let impacts = group.picks.map { pick -> Impact in
            guard let index = pick.mount else { return Impact(consumer: pick.consumer, effect: pick.note, message: nil) }
            let mount = group.mounts[index]
            return Impact(
                consumer: pick.consumer,
                effect: "picks \(mount.mountPoint.string) (root \(mount.root.string), \(file):\(mount.line)): \(pick.note)", message: nil)
        }
        var allImpacts = impacts
        if !hierarchy.isUnified, roots.count > 1 {
            allImpacts.append(
                Impact(
                    consumer: "uber-go/automaxprocs",
                    effect: "translates every mount and fails when any root does not contain the process's cgroup path",
                    message: "path \"<cgroup path>\" is not a descendant of mount point root \"<root>\" and cannot be exposed from \"<mount point>\""))
        }

        let explanation: String
        if disagree {
            explanation = "All mounts of one hierarchy show the same cgroups, but a mount only exposes the subtree at its root. With "
                + "roots \(roots.joined(separator: ", ")), a consumer that takes one mount and a consumer that takes another compute "
                + "different directories for the same process: limits written by one are not the ones read by the other."
        } else if roots.count > 1 {
            explanation = "The mounts expose different subtrees (roots \(roots.joined(separator: ", "))), but every consumer modelled "
                + "here picks a mount with the same root, so they agree today; a consumer with another rule may not."
        } else {
            let jdk = hierarchy.controllers.first { [.cpu, .cpuacct, .cpuset, .memory, .pids].contains($0) }
            explanation = "Every mount has the same root, so whichever one a consumer picks it sees the same directories; nothing breaks."
                + (jdk.map { " Worth knowing when reading JVM logs: HotSpot prints \"Duplicate \($0.rawValue) controllers detected\"." } ?? "")
        }

        return Finding(
            id: id, severity: disagree ? .warning : .info, summary: summary, explanation: explanation, evidence: evidence,
            affected: group.affected, impacts: allImpacts, remediation: remediation(group, disagree: disagree),
            hierarchy: hierarchy, hostWide: group.runtimeNamespace && disagree)
    }

    private func remediation(_ group: Group, disagree: Bool) -> Remediation {
        let keep = group.mounts.firstIndex { $0.mountPoint.string.hasPrefix("/sys/fs/cgroup") } ?? 0
        let holder = group.namespaces[0]
        let extra = group.mounts.indices.filter { $0 != keep }.map { group.mounts[$0] }
        let enter = group.runtimeNamespace ? "" : "nsenter -t \(holder.holderPID) -m "
        let commands = extra.map { "\(enter)umount \($0.mountPoint.string)   # root \($0.root.string)" }
        let text: String
        if disagree {
            text = "Keep one mount per hierarchy in each namespace, the one under /sys/fs/cgroup (\(group.mounts[keep].mountPoint.string)), "
                + "and unmount the others, or make their roots equal; whatever created the extra mount (a bind mount by an agent "
                + "or an entrypoint script) should bind the same root."
        } else {
            text = "Nothing to fix if the duplicates are intended (Bedrock strata, a chroot or an agent's view). To remove them, "
                + "unmount all but \(group.mounts[keep].mountPoint.string)."
        }
        return Remediation(text: text, commands: commands)
    }
}
