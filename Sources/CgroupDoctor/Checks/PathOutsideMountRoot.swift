import CgroupFormats
import SystemPackage

/// `path-outside-mount-root`: a process's cgroup path (`/proc/<pid>/cgroup`) is not at or below
/// the root (mountinfo field 4) of any mount of that hierarchy in its OWN mount namespace, or in the
/// runtime's (the reference pid's). The cgroup directory it lives in is not reachable through any
/// mount there, so every consumer that maps path → directory gets a wrong directory or an error.
///
/// Kernel: a container's cgroup mounts are bind mounts of its own cgroup directory (root
/// `/kubepods/.../<id>`, `/docker/<id>`). Moving a process to a sibling cgroup afterwards (an agent,
/// Cloud Foundry garden's `good`/`bad` move in openjdk/jdk#21808) leaves the mount root unchanged:
/// both the root and the path are printed relative to the reader's cgroup namespace
/// (`cgroup_show_path()`, `proc_cgroup_show()`), so the mismatch is visible to any reader.
///
/// Consumers (each computes `Rel(root, path)` or ignores the root):
/// - containerd/cgroups v1 `existingPath` (`PidPath`/`NestedPath`): `Join("/", Rel(root, path))`,
///   no error — the leading `..` are dropped and a wrong cgroup (`/bad/2f57368b-...`) is used
///   (research/runtime-anchors.md §1.1, containerd/cgroups `cgroup1/paths.go`).
/// - opencontainers/cgroups (runc) `GetOwnCgroupPath` → `getCgroupPathHelper`:
///   `Join(mountpoint, Rel(root, path))`, a directory outside the mount (`v1_utils.go`).
/// - HotSpot before JDK-8343191 (8u, 11u, 17u, 21u, 22, 23): `set_subsystem_path` leaves the path
///   NULL when root ≠ `/` and root ≠ path (JDK-8288019), every limit read fails and the JVM sizes
///   itself to the host; the Java-side `Metrics` threw an NPE until JDK-8286212 (19). JDK 24/25
///   (JDK-8343191) search the path's trailing components below the mount instead.
/// - Go runtime 1.25 ignores the root (mount point + path, file missing → limit ignored); 1.26
///   finds no mount containing the path (golang/go#76390) — GOMAXPROCS = CPU count either way.
/// - uber-go/automaxprocs `MountPoint.Translate` fails the whole call:
///   `path "<path>" is not a descendant of mount point root "<root>" and cannot be exposed from "<mnt>"`.
///
/// Cost: the candidate mounts are computed once per (namespace, hierarchy), and a namespace with a
/// mount of root `/` for a hierarchy is never searched again (every path is below `/`), so a
/// 10,000-process node costs one dictionary lookup per `/proc/<pid>/cgroup` line.
///
/// Fixtures: `jdk-8343191-outside-root` (real lines from openjdk/jdk#21808),
/// `automaxprocs-untranslatable-cpuacct` (uber-go/automaxprocs testdata); live: PathOutsideMountRootLiveTests.
public struct PathOutsideMountRoot: Check {
    public init() {}
    public let id = "path-outside-mount-root"
    public let severity = Severity.warning
    public let title = "a process's cgroup path is not at or below the root of any mount of its hierarchy in its own or the runtime's mount namespace"

    /// The mounts of one hierarchy in one namespace, computed once.
    private struct Candidates {
        var mounts: [MountEntry]
        /// A mount with root `/` exists: every path is below it, nothing to resolve.
        var coversEverything: Bool
    }

    /// One finding: a hierarchy and the mount roots the paths fall outside of.
    private struct Group {
        var hierarchy: Hierarchy
        var mounts: [MountEntry]
        var entry: CgroupEntry
        var cgroupFile: String
        var namespaces: [(id: String, holderPID: Int32, mountInfoFile: String, isRuntime: Bool, mounts: [MountEntry])] = []
        var affected: [AffectedProcess] = []
        var pids: Set<Int32> = []
    }

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        let namespaces = snapshot.namespaces
        guard !namespaces.isEmpty else { return [] }
        var indexByID: [String: Int] = [:]
        for (index, namespace) in namespaces.enumerated() where indexByID[namespace.id] == nil {
            indexByID[namespace.id] = index
        }
        let runtimeIndex = namespaces.firstIndex { $0.holderPID == snapshot.referencePID }
        var candidates = [[Int: Candidates]](repeating: [:], count: namespaces.count)
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        // Processes of one container have byte-identical cgroup files (same contentID): the lines
        // that fall outside a root are worked out once per (view, content) and reused.
        var hitsByContent: [ContentKey: [(group: Int, entry: Int)]] = [:]

        func record(_ process: ProcessRecord, group at: Int, entry: CgroupEntry) {
            if groups[at].pids.insert(process.pid).inserted {
                groups[at].affected.append(
                    AffectedProcess(
                        pid: process.pid, command: snapshot.command(of: process.pid), cgroupPath: entry.path.string,
                        workload: Workload.of(process.cgroups)))
            }
        }

        for process in snapshot.processes {
            let own = process.mountNamespace.flatMap { indexByID[$0] }
            var views: [Int] = []
            if let own { views.append(own) }
            if let runtimeIndex, runtimeIndex != own { views.append(runtimeIndex) }
            for view in views {
                let contentKey = process.contentID.map { ContentKey(view: view, content: $0) }
                if let contentKey, let known = hitsByContent[contentKey] {
                    for hit in known { record(process, group: hit.group, entry: process.cgroups.entries[hit.entry]) }
                    continue
                }
                var hits: [(group: Int, entry: Int)] = []
                for (entryIndex, entry) in process.cgroups.entries.enumerated() {
                    let known = candidates[view][entry.hierarchyID]
                    let found: Candidates
                    if let known {
                        found = known
                    } else {
                        let hierarchy = Hierarchy(entry)
                        let mounts = namespaces[view].mountInfo.entries.filter { hierarchy.isMounted(by: $0) }
                        found = Candidates(mounts: mounts, coversEverything: mounts.contains { $0.root.isRootOnly })
                        candidates[view][entry.hierarchyID] = found
                    }
                    if found.coversEverything || found.mounts.isEmpty { continue }
                    let file = namespaces[view].mountInfo.file
                    guard case .unresolved(.outsideMountRoot(let hierarchy, _, let mounts, _)) =
                        PathResolver.resolve(entry, mounts: found.mounts, mountInfoFile: file)
                    else { continue }
                    let key = "\(hierarchy.id)\u{0}" + mounts.map(\.root.string).joined(separator: "\u{0}")
                    let at: Int
                    if let existing = groupIndex[key] {
                        at = existing
                    } else {
                        at = groups.count
                        groupIndex[key] = at
                        groups.append(Group(hierarchy: hierarchy, mounts: mounts, entry: entry, cgroupFile: process.cgroups.file))
                    }
                    let namespace = namespaces[view]
                    if !groups[at].namespaces.contains(where: { $0.id == namespace.id }) {
                        groups[at].namespaces.append(
                            (namespace.id, namespace.holderPID, file, view == runtimeIndex, mounts))
                    }
                    hits.append((at, entryIndex))
                    record(process, group: at, entry: entry)
                }
                if let contentKey { hitsByContent[contentKey] = hits }
            }
        }
        return groups.map { finding(for: $0, snapshot: snapshot) }
    }

    private func finding(for group: Group, snapshot: HostSnapshot) -> Finding {
        let hierarchy = group.hierarchy
        let subject = "hierarchy \(hierarchy.id) (\(hierarchy.label))"
        let example = group.entry.path
        let mount = group.mounts[0]
        let roots = Array(Set(group.mounts.map(\.root.string))).sorted()
        let rootText = roots.count == 1 ? "the mount root \(roots[0])" : "every mount root (\(roots.joined(separator: ", ")))"
        let runtimeSeen = group.namespaces.contains { $0.isRuntime }
        let count = group.affected.count
        let views = group.namespaces.map { "\($0.id)\($0.isRuntime ? " (the runtime's)" : "")" }
        let summary = "\(subject): \(count) process\(count == 1 ? "'s" : "es'") cgroup path\(count == 1 ? " is" : "s are") outside "
            + "\(rootText) of \(group.mounts.count == 1 ? "its only mount" : "all \(group.mounts.count) of its mounts") "
            + "in mount namespace\(views.count == 1 ? "" : "s") \(views.joined(separator: ", "))"

        var evidence = [Evidence(group.entry, file: group.cgroupFile)]
        for namespace in group.namespaces.prefix(3) {
            for mount in namespace.mounts { evidence.append(Evidence(mount, file: namespace.mountInfoFile)) }
        }

        let explanation = "The kernel prints the cgroup path (/proc/<pid>/cgroup) and each mount's root (mountinfo field 4) "
            + "relative to the same cgroup namespace, so a path that is not at or below the root names a cgroup directory "
            + "that no mount of \(subject) in that namespace exposes. This happens when a process is moved to another cgroup "
            + "after its container's cgroup bind mounts were made (an agent, or a runtime moving it to a sibling cgroup), or "
            + "when a namespace mounts only a subdirectory of the hierarchy. "
            + (runtimeSeen
                ? "It is seen from the runtime's own mount namespace too: the runtime resolves these processes' cgroups to the wrong directories."
                : "The runtime's namespace resolves these paths; the processes themselves (their language runtimes) cannot.")

        let rel = Self.relative(from: mount.root, to: example)
        var impacts: [Impact] = []
        if hierarchy.isUnified {
            impacts.append(
                Impact(
                    consumer: "containerd/cgroups cgroup2, runc (opencontainers/cgroups fs2), HotSpot v2, Go runtime 1.25",
                    effect: "ignore the mount root and read \(Self.join(mount.mountPoint, example).string), which does not exist in this mount: limits are not found",
                    message: nil))
        } else {
            impacts.append(
                Impact(
                    consumer: "containerd/cgroups v1 (PidPath/NestedPath → existingPath)",
                    effect: "no error; uses the wrong cgroup \(Self.containerdPath(rel)) (Join(\"/\", Rel(root, path))) for stats and updates",
                    message: nil))
            impacts.append(
                Impact(
                    consumer: "runc / opencontainers/cgroups GetOwnCgroupPath (getCgroupPathHelper, nested containers)",
                    effect: "resolves the process's own cgroup to \(Self.goJoin(mount.mountPoint, rel)) (Join(mountpoint, Rel(root, path))), outside the mount",
                    message: nil))
            if hierarchy.controllers.contains(where: { [.cpu, .cpuacct, .cpuset, .memory, .pids].contains($0) }) {
                impacts.append(
                    Impact(
                        consumer: "HotSpot before JDK-8343191 (8u, 11u, 17u, 21u without the 2025 backports, 22, 23)",
                        effect: "leaves the subsystem path unset: every limit read fails and the JVM sizes heap and threads to the host's memory and CPU count (JDK 24+ searches the path's trailing components below \(mount.mountPoint.string) instead)",
                        message: nil))
            }
            impacts.append(
                Impact(
                    consumer: "uber-go/automaxprocs (maxprocs.Set)",
                    effect: "fails and leaves GOMAXPROCS at the CPU count",
                    message: "path \"\(example.string)\" is not a descendant of mount point root \"\(mount.root.string)\" and cannot be exposed from \"\(mount.mountPoint.string)\""))
        }
        if hierarchy.isUnified || hierarchy.controllers.contains(.cpu) {
            impacts.append(
                Impact(
                    consumer: "Go runtime 1.25+ (GOMAXPROCS from the CPU limit)",
                    effect: "1.25 ignores the root and opens \(Self.join(mount.mountPoint, example).string)/\(hierarchy.isUnified ? "cpu.max" : "cpu.cfs_quota_us"), 1.26 finds no mount containing the path: the CPU limit is ignored and GOMAXPROCS is the CPU count",
                    message: nil))
        }

        return Finding(
            id: id, severity: severity, summary: summary, explanation: explanation, evidence: evidence,
            affected: group.affected, impacts: impacts,
            remediation: remediation(group, snapshot: snapshot, runtimeSeen: runtimeSeen),
            hierarchy: hierarchy)
    }

    private func remediation(_ group: Group, snapshot: HostSnapshot, runtimeSeen: Bool) -> Remediation {
        let hierarchy = group.hierarchy
        let mount = group.mounts[0]
        let first = group.affected[0]
        var commands = ["grep -n '^\(hierarchy.id):' /proc/\(first.pid)/cgroup   # the path it is in now"]
        // Moving it back needs a mount that exposes both cgroups: one with root "/" in the runtime's namespace.
        let hostMount = snapshot.referenceNamespace?.mountInfo.entries.first { hierarchy.isMounted(by: $0) && $0.root.isRootOnly }
        if let hostMount {
            let target = Self.join(hostMount.mountPoint, mount.root)
            commands.append("echo \(first.pid) > \(target.string)/cgroup.procs   # back below the mount root \(mount.root.string)")
        }
        var text = "Move the process back into a cgroup at or below \(mount.root.string) (from a namespace that mounts the whole "
            + "hierarchy), or restart its container so the cgroup mounts are made for the cgroup it runs in. Whatever moved it "
            + "(a node agent, a runtime's cgroup migration) should move it only below the container's cgroup."
        if !runtimeSeen, !hierarchy.isUnified {
            text += " Until then, give language runtimes their limits explicitly (-XX:ActiveProcessorCount=N and -XX:MaxRAM=<bytes> for the JVM, GOMAXPROCS=N for Go)."
        }
        if hostMount == nil {
            let mountCommand = hierarchy.isUnified
                ? "mount -t cgroup2 cgroup2 \"$d\""
                : "mount -t cgroup -o \(hierarchy.requiredSuperOptions.joined(separator: ",")) cgroup \"$d\""
            commands.append(
                "d=$(mktemp -d) && \(mountCommand) && echo \(first.pid) > \"$d\(mount.root.string)/cgroup.procs\"; umount \"$d\"; rmdir \"$d\"")
        }
        return Remediation(text: text, commands: commands)
    }

    // MARK: Go's filepath.Rel / filepath.Join, as the runtimes compute them

    /// `filepath.Rel(root, path)` as components: `..` per root component not shared, then the rest of `path`.
    static func relative(from root: FilePath, to path: FilePath) -> [String] {
        let r = root.components.map(\.string)
        let p = path.components.map(\.string)
        var shared = 0
        while shared < r.count, shared < p.count, r[shared] == p[shared] { shared += 1 }
        return Array(repeating: "..", count: r.count - shared) + p[shared...]
    }

    /// containerd's `filepath.Join("/", rel)`: `..` at the root is dropped by `Clean`.
    static func containerdPath(_ rel: [String]) -> String {
        goJoin(FilePath("/"), rel)
    }

    /// `filepath.Join(base, rel...)` with `Clean`: each `..` removes a component, never above `/`.
    static func goJoin(_ base: FilePath, _ rel: [String]) -> String {
        var components = base.components.map(\.string)
        for component in rel {
            if component == ".." {
                if !components.isEmpty { components.removeLast() }
            } else if component != "." {
                components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    /// `mountPoint` + every component of `path` (the root ignored, as Go 1.25 and cgroup2 code do).
    static func join(_ mountPoint: FilePath, _ path: FilePath) -> FilePath {
        var result = mountPoint
        for component in path.components { result.append(component) }
        return result
    }
}

extension FilePath {
    /// `/` and nothing else.
    fileprivate var isRootOnly: Bool { root != nil && components.isEmpty }
}

/// A distinct cgroup file content seen from one namespace: ints only, cheap to hash.
private struct ContentKey: Hashable {
    var view: Int
    var content: Int
}
