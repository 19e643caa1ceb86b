import CgroupFormats
import SystemPackage

/// `dying-cgroups`: far more cgroups exist in the kernel than directories in cgroupfs (leaked
/// "dying"/"zombie" cgroups), or the memory cgroups are close to the 65,535 memory cgroup ID
/// limit, after which `mkdir` of the next container's cgroup fails.
///
/// Kernel: `rmdir` of a cgroup only takes it offline; its structures are freed when the last
/// reference goes. A memory cgroup is pinned by page cache, slab objects (kernel memory accounting)
/// and swap entries still charged to it, so hosts that create and remove many short-lived cgroups
/// accumulate dying ones (LWN, "Cleaning up dying control groups, 2022 edition",
/// https://lwn.net/Articles/895431/; the LPC 2025 "zombie memory cgroup" session). They hold
/// kernel memory no cgroup is charged for and slow reclaim (facebookincubator/oomd#117).
/// - v1: `/proc/cgroups` `num_cgroups` counts live and dying cgroups of a hierarchy
///   (`root->nr_cgrps`, decremented only when the cgroup is freed); the live ones are the
///   directories below the mount (counted by the scanner only when `num_cgroups` >= 1000,
///   ``HostScanner/dyingCountThreshold``). Dying = `num_cgroups` - 1 (root) - directories.
/// - v2: the root's `cgroup.stat` `nr_dying_descendants` (since 4.14, ec39225cca42), and since 6.11
///   `nr_subsys_memory` / `nr_dying_subsys_memory` (live and dying memory cgroups exactly).
///
/// The ID limit: memory cgroup IDs are 16 bits (`MEM_CGROUP_ID_MAX` = 65535). Before 4.7 every
/// dying memory cgroup kept its ID until freed; 73f576c04b94 ("mm: memcontrol: fix cgroup creation
/// failure after many small jobs", 4.7, backported to stable 3.19+) releases it at offline unless
/// swap entries still refer to it. CentOS/RHEL 7 (3.10) nodes with kmem accounting enabled by
/// runc/kubelet are the classic victims: kubernetes/kubernetes#61937 (`memory 11 65535 1`),
/// moby/moby#29638 (`memory 5 22563 1` with 61 container directories), opencontainers/runc#1725,
/// lxc/lxc#1443. The errno was ENOSPC, then ENOMEM from 4.7 until 11d6761218d1 (5.7) restored
/// "No space left on device".
///
/// Thresholds (honest, not tuned to fire): a few dozen dying memory cgroups are normal churn
/// (the machine cgdoctor is developed on shows 45-55 `num_cgroups` for 6-8 directories). Warning at
/// ``warningDying`` (10,000) dying cgroups in one hierarchy: ~15% of the ID space and far beyond
/// churn, the level at which the reports above were filed. Error when a hierarchy carrying the
/// memory controller holds ``errorMemoryCgroups`` (60,000, 92% of 65,535) memory cgroups or more
/// but not more than 65,535: on kernels where dying memory cgroups keep their IDs (and always for
/// live ones) the next few thousand container starts fail. A count above 65,535 proves the kernel
/// releases the IDs of dying cgroups, so that case stays a warning.
///
/// Fixtures: `moby-29638-dying-memcg-v1` (warning), `k8s-61937-memcg-id-limit-v1` (error),
/// `synthetic-dying-cgroups-v2` (warning); clean: every other host. Live: DyingCgroupsLiveTests
/// stages 1,100 dying cgroups in a `pids` child (zombies keep them) and runs this check with a
/// lowered threshold; the shipped thresholds cannot be reached on a shared machine.
public struct DyingCgroups: Check {
    public let id = "dying-cgroups"
    public let severity = Severity.error
    public let title = "many more cgroups in the kernel than in cgroupfs (dying memory cgroups), or memory cgroups near the 65,535 ID limit"

    /// Dying cgroups in one hierarchy at or above which it is reported (warning).
    public var warningDying: Int
    /// Memory cgroups (live and dying) at or above which creating cgroups is about to fail (error).
    public var errorMemoryCgroups: Int
    /// `MEM_CGROUP_ID_MAX` (mm/memcontrol.c): 16-bit memory cgroup IDs.
    public static let memoryCgroupIDLimit = 65_535

    public init(warningDying: Int = 10_000, errorMemoryCgroups: Int = 60_000) {
        self.warningDying = warningDying
        self.errorMemoryCgroups = errorMemoryCgroups
    }

    /// What the kernel says about one hierarchy's cgroup population.
    public struct Population: Sendable, Hashable {
        public var hierarchy: Hierarchy
        /// Live and dying cgroups, root included.
        public var total: Int
        /// Live cgroups below the root, nil when not counted.
        public var live: Int?
        /// Dying cgroups, nil when the live ones were not counted.
        public var dying: Int?
        /// Memory cgroups (live and dying, root included) when the hierarchy carries `memory`.
        public var memoryCgroups: Int?
    }

    /// Every v1 hierarchy with /proc/cgroups counts, and the v2 hierarchy when its root
    /// `cgroup.stat` was read. Public so tests and callers can see the arithmetic.
    public static func populations(_ snapshot: HostSnapshot) -> [Population] {
        var result: [Population] = []
        var byID: [Int: [ControllerEntry]] = [:]
        for entry in snapshot.controllers?.entries ?? [] where entry.hierarchyID != 0 && entry.enabled {
            byID[entry.hierarchyID, default: []].append(entry)
        }
        for (id, entries) in byID.sorted(by: { $0.key < $1.key }) {
            let root = snapshot.hierarchyRoots.first { $0.hierarchy.id == id }
            let hierarchy = root?.hierarchy ?? Hierarchy(id: id, controllers: entries.map(\.controller), name: nil)
            let total = entries.map(\.cgroupCount).max() ?? 0
            let live = root?.liveCgroups
            let dying = live.map { max(0, total - 1 - $0) }
            let memory = entries.contains { $0.controller == .memory } ? total : nil
            result.append(Population(hierarchy: hierarchy, total: total, live: live, dying: dying, memoryCgroups: memory))
        }
        if let v2 = snapshot.cgroup2Root, let stat = v2.stat, let descendants = stat["nr_descendants"],
            let dying = stat["nr_dying_descendants"]
        {
            var memory: Int?
            if let live = stat["nr_subsys_memory"] {
                memory = live + (stat["nr_dying_subsys_memory"] ?? 0)
            } else if v2.controllers?.contains(.memory) == true {
                // Before 6.11 only an upper bound: every cgroup may carry a memory css.
                memory = descendants + dying + 1
            }
            result.append(
                Population(
                    hierarchy: Hierarchy(id: 0, controllers: v2.controllers ?? [], name: nil), total: descendants + dying + 1,
                    live: descendants, dying: dying, memoryCgroups: memory))
        }
        return result
    }

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        Self.populations(snapshot).compactMap { population in
            let nearLimit = population.memoryCgroups.map { $0 >= errorMemoryCgroups && $0 <= Self.memoryCgroupIDLimit } ?? false
            let manyDying = (population.dying ?? 0) >= warningDying
            guard nearLimit || manyDying else { return nil }
            return finding(population, nearLimit: nearLimit, snapshot: snapshot)
        }
    }

    private func finding(_ p: Population, nearLimit: Bool, snapshot: HostSnapshot) -> Finding {
        let v2 = p.hierarchy.isUnified
        let subject = v2 ? "the cgroup2 hierarchy" : "hierarchy \(p.hierarchy.id) (\(p.hierarchy.label))"
        let mountPoint: String? =
            v2
            ? snapshot.cgroup2Root?.mount.mountPoint.string
            : snapshot.hierarchyRoots.first { $0.hierarchy.id == p.hierarchy.id }?.mount.mountPoint.string

        var evidence: [Evidence] = []
        if v2, let stat = snapshot.cgroup2Root?.stat {
            for entry in stat.entries
            where ["nr_descendants", "nr_dying_descendants", "nr_subsys_memory", "nr_dying_subsys_memory"].contains(entry.key) {
                evidence.append(Evidence(file: stat.file, line: entry.line, text: "\(entry.key) \(entry.value)"))
            }
        } else {
            for entry in snapshot.controllers?.entries ?? [] where entry.hierarchyID == p.hierarchy.id {
                evidence.append(Evidence(file: snapshot.controllers?.file ?? "/proc/cgroups", line: entry.line, text: entry.text))
            }
            if let root = snapshot.hierarchyRoots.first(where: { $0.hierarchy.id == p.hierarchy.id }) {
                if let live = p.live {
                    evidence.append(
                        Evidence(
                            file: root.mount.mountPoint.string, line: nil,
                            text: "\(live) cgroup director\(live == 1 ? "y" : "ies") below the root (live cgroups)"))
                }
                if let reference = snapshot.referenceNamespace {
                    evidence.append(Evidence(root.mount, file: reference.mountInfo.file))
                }
            }
        }

        var parts: [String] = []
        if let live = p.live, let dying = p.dying {
            let noun = v2 ? "live descendant\(live == 1 ? "" : "s")" : "live director\(live == 1 ? "y" : "ies")"
            parts.append("\(p.total) cgroups in the kernel, \(live) \(noun): \(dying) dying")
        } else {
            parts.append("\(p.total) cgroups in the kernel")
        }
        let severity: Severity = nearLimit ? .error : .warning
        var summary = "\(subject): " + parts.joined()
        if nearLimit, let memory = p.memoryCgroups {
            summary += "; \(memory) memory cgroups, \(Self.memoryCgroupIDLimit - memory) short of the 65535 memory cgroup ID limit"
        }

        var why =
            "rmdir only takes a cgroup offline; the kernel frees it when the last reference goes. Memory cgroups are "
            + "pinned by page cache, kernel objects (kmem accounting) and swap charged to them, so a host that creates and "
            + "removes many short-lived cgroups (containers, exec probes, CronJobs, transient units) accumulates dying ones. "
            + "They use kernel memory no cgroup is charged for and slow down reclaim."
        if nearLimit {
            why += " Memory cgroup IDs are 16 bits (65535). On kernels before 4.7 every dying memory cgroup keeps its ID "
                + "(73f576c04b94 releases it at offline unless swap refers to it; CentOS/RHEL 7 3.10 kernels with kmem "
                + "accounting enabled are the usual victims, kubernetes#61937, moby#29638); live ones always hold one. When "
                + "they run out, creating the next cgroup fails with ENOSPC (ENOMEM on 4.7-5.6)."
        } else if let memory = p.memoryCgroups, memory > Self.memoryCgroupIDLimit {
            why += " The count is above 65535, so this kernel releases the IDs of dying memory cgroups: container starts "
                + "will not fail on the ID limit, but the memory they hold is lost to workloads."
        } else if p.memoryCgroups != nil {
            why += " On kernels where dying memory cgroups keep their 16-bit ID (before 4.7, or pinned by swap) this "
                + "hierarchy is heading for the 65535 limit, after which cgroup creation fails."
        }

        var impacts: [Impact] = []
        if nearLimit {
            let dir = v2 ? "/sys/fs/cgroup/kubepods.slice/..." : "\(mountPoint ?? "/sys/fs/cgroup/memory")/docker/<id>"
            impacts += [
                Impact(
                    consumer: "runc (Docker, containerd, CRI-O)", effect: "fails to create the container's cgroup",
                    message: "process_linux.go: applying cgroup configuration for process caused \"mkdir \(dir): no space left on device\""),
                Impact(
                    consumer: "kubelet", effect: "pods stay in ContainerCreating; pod sandbox creation fails with the runtime's mkdir error",
                    message: "no space left on device"),
            ]
        }
        impacts.append(
            Impact(
                consumer: "kernel memory management", effect: "memory held by dying cgroups is charged to no cgroup; reclaim iterates over them",
                message: nil))

        return Finding(
            id: id, severity: severity, summary: summary, explanation: why, evidence: evidence, impacts: impacts,
            remediation: remediation(p, mountPoint: mountPoint), hierarchy: p.hierarchy, hostWide: true)
    }

    private func remediation(_ p: Population, mountPoint: String?) -> Remediation {
        var commands: [String]
        if p.hierarchy.isUnified {
            let root = mountPoint ?? "/sys/fs/cgroup"
            commands = ["cat \(root)/cgroup.stat   # nr_dying_descendants, nr_dying_subsys_memory"]
        } else {
            let names = p.hierarchy.controllers.map(\.rawValue).joined(separator: "|")
            let root = mountPoint ?? "/sys/fs/cgroup/\(p.hierarchy.controllers.map(\.rawValue).joined(separator: ","))"
            commands = [
                "grep -E '^#|^(\(names.isEmpty ? "memory" : names))\\s' /proc/cgroups   # num_cgroups: live + dying",
                "find \(root) -mindepth 1 -type d | wc -l   # live cgroups",
            ]
        }
        commands += [
            "sync && echo 3 > /proc/sys/vm/drop_caches   # drops page cache and slab pinning dying cgroups (costs I/O); re-check the count",
            "grep -o 'cgroup[^ ]*' /proc/cmdline; uname -r   # kmem accounting on 3.10 kernels: boot with cgroup.memory=nokmem where supported",
            "# if the count stays high: kubectl drain <node> --ignore-daemonsets --delete-emptydir-data && reboot",
        ]
        return Remediation(
            text: "Free what pins the dying cgroups (page cache, slab) and re-check; find what creates and removes cgroups at a "
                + "high rate (short-lived containers, exec probes, CronJobs, transient systemd units) and slow it down. On "
                + "CentOS/RHEL 7 kernels disable kernel memory accounting (kubernetes#61937) or move to a newer kernel. "
                + "A reboot is the only sure reset; drain the node first.",
            commands: commands)
    }
}
