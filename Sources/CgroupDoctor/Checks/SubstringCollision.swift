import CgroupFormats

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// `substring-collision`: a cgroup v1 mount (or a `/proc/<pid>/cgroup` line) that the pre-fix
/// HotSpot container code takes for the `memory`, `cpuset`, `cpu` or `cpuacct` controller although
/// it does not carry that controller — `name=cpu_mirror`, a mount point `/sys/fs/cgroup/cpu_mirror`.
///
/// HotSpot's first container support (JDK-8146115; JDK 10, 11.0.0–11.0.2-era and 8u191 through at
/// least 8u202, the version hit in the likakuli.com incident) matched controllers by substring
/// (`OSContainer::init()` in `osContainer_linux.cpp`, research/runtime-anchors.md §3): for every
/// `/proc/self/mountinfo` line whose fs type after ` - ` is `cgroup`, `strstr` over the WHOLE line
/// (root, mount point, options) in the order `memory`, `cpuset`, `cpu,cpuacct` | `cpuacct,cpu`
/// (both), `cpuacct`, `cpu`, the first hit taking the line's root and mount point, later lines
/// overwriting earlier ones; then the same chain on the controller field of `/proc/self/cgroup`
/// picks each controller's path. A later `name=cpu_mirror` mount therefore becomes "the cpu
/// controller": `cpu.cfs_quota_us`/`cpu.shares` are missing there, the reads fail, and
/// `active_processor_count()` falls back to the host's CPU count (likewise `memory` → heap sized to
/// host RAM). This check runs that exact chain on every mount namespace's mountinfo and on every
/// process's cgroup file, and reports a controller whose pick does not carry that controller as an
/// exact token — so the standard layouts (`/sys/fs/cgroup/cpuset` with `cpuset`,
/// `/sys/fs/cgroup/cpu,cpuacct` with `cpuacct,cpu`, split `cpu`/`cpuacct`) never fire.
///
/// Fixed by "Container Support doesn't work for some Join Controllers combinations"
/// (https://hg.openjdk.java.net/jdk-updates/jdk11u/rev/426fae9c5382): `sscanf` of the super options
/// and `strcmp` per comma token. UNVERIFIED: its JBS id (JDK-8217766 is our best reading) and the
/// first 8u/11u updates that ship it. containerd, runc, Go and every later JDK match exact tokens.
///
/// Containers matter most: runc bind-mounts every v1 hierarchy of the host into each container at
/// `/sys/fs/cgroup/<basename of the host mount point>`, so a colliding host mount reaches every JVM
/// started on the node (hence `hostWide`).
///
/// Fixtures: `synthetic-cpu-mirror-mounted` (the incident before the `umount`); clean: every other
/// host; live: SubstringCollisionLiveTests.
public struct SubstringCollision: Check {
    public init() {}
    public let id = "substring-collision"
    public let severity = Severity.warning
    public let title = "a cgroup mount or cgroup line that JVMs with the pre-fix substring matcher (8u191-8u202 era) take for cpu, cpuacct, cpuset or memory"

    /// The controllers the pre-fix HotSpot code looks for, in its chain's order.
    public enum Slot: String, CaseIterable, Sendable {
        case memory, cpuset, cpu, cpuacct
    }

    /// The pre-fix `strstr` chain on one string (a whole mountinfo line, or a controller field):
    /// the controllers the first matching branch assigns, nil when no branch matches.
    public static func preFixMatch(_ text: String) -> [Slot]? {
        // strstr is a byte search; so is this (String.contains is Unicode-aware and was a third of
        // a 10,000-process check's user time).
        var text = text
        return text.withUTF8 { bytes -> [Slot]? in
            func has(_ needle: StaticString) -> Bool {
                let length = needle.utf8CodeUnitCount
                guard let base = bytes.baseAddress, bytes.count >= length else { return false }
                // memchr for the first byte, memcmp for the rest (memmem is not exported to Swift).
                var offset = 0
                while offset + length <= bytes.count {
                    guard let hit = memchr(base + offset, Int32(needle.utf8Start.pointee), bytes.count - length + 1 - offset)
                    else { return false }
                    let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                    if memcmp(base + at, needle.utf8Start, length) == 0 { return true }
                    offset = at + 1
                }
                return false
            }
            if has("memory") { return [.memory] }
            if has("cpuset") { return [.cpuset] }
            if has("cpu,cpuacct") || has("cpuacct,cpu") { return [.cpu, .cpuacct] }
            if has("cpuacct") { return [.cpuacct] }
            if has("cpu") { return [.cpu] }
            return nil
        }
    }

    /// Which mount the pre-fix JVM uses for each controller in one namespace: later lines win.
    public static func preFixMounts(_ mounts: [MountEntry]) -> [Slot: MountEntry] {
        var picked: [Slot: MountEntry] = [:]
        for mount in mounts where mount.fileSystemType == "cgroup" {
            for slot in preFixMatch(mount.text) ?? [] { picked[slot] = mount }
        }
        return picked
    }

    private struct Group {
        var slot: Slot
        var hierarchy: Hierarchy?
        var mountSeen: [(namespace: MountNamespace, mount: MountEntry)] = []
        var lineSeen: (entry: CgroupEntry, file: String)?
        var runtimeNamespace = false
        var namespaceIDs: Set<String> = []
        var affected: [AffectedProcess] = []
        var pids: Set<Int32> = []
    }

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        // The kernel lists every live hierarchy in every process's file: one process names them all.
        let sample = snapshot.process(snapshot.referencePID) ?? snapshot.processes.first
        let hierarchies = (sample?.cgroups.entries ?? []).filter { !$0.isUnified }.map(Hierarchy.init)
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        func group(_ slot: Slot, _ hierarchy: Hierarchy?, fallback: String) -> Int {
            let key = "\(slot.rawValue)\u{0}\(hierarchy.map { "\($0.id)" } ?? fallback)"
            if let at = groupIndex[key] { return at }
            groupIndex[key] = groups.count
            groups.append(Group(slot: slot, hierarchy: hierarchy))
            return groups.count - 1
        }

        // Mountinfo side, per namespace.
        var collidingNamespaces: [String: [Int]] = [:]
        for namespace in snapshot.namespaces {
            let picked = Self.preFixMounts(namespace.mountInfo.entries)
            for slot in Slot.allCases {
                guard let mount = picked[slot], !mount.superOptions.contains(slot.rawValue) else { continue }
                let hierarchy = hierarchies.first { $0.isMounted(by: mount) }
                let at = group(slot, hierarchy, fallback: "dev \(mount.device)")
                groups[at].mountSeen.append((namespace, mount))
                groups[at].namespaceIDs.insert(namespace.id)
                if namespace.holderPID == snapshot.referencePID { groups[at].runtimeNamespace = true }
                collidingNamespaces[namespace.id, default: []].append(at)
            }
        }

        // Cgroup-file side: the same chain on the controller field, once per hierarchy id.
        var slotsByHierarchy: [Int: [Slot]] = [:]
        // Processes with byte-identical cgroup files (one container's) get the same answer.
        var hitsByContent: [Int: [Int]] = [:]
        for process in snapshot.processes {
            var hits: [Int]
            if let id = process.contentID, let known = hitsByContent[id] {
                hits = known
            } else {
                var picked: [Slot: CgroupEntry] = [:]
                for entry in process.cgroups.entries {
                    let slots: [Slot]
                    if let known = slotsByHierarchy[entry.hierarchyID] {
                        slots = known
                    } else {
                        slots = Self.preFixMatch(entry.controllerField) ?? []
                        slotsByHierarchy[entry.hierarchyID] = slots
                    }
                    for slot in slots { picked[slot] = entry }
                }
                hits = []
                for slot in Slot.allCases {
                    guard let entry = picked[slot], !entry.controllers.contains(Controller(slot.rawValue)) else { continue }
                    let at = group(slot, Hierarchy(entry), fallback: "")
                    if groups[at].lineSeen == nil { groups[at].lineSeen = (entry, process.cgroups.file) }
                    hits.append(at)
                }
                if let id = process.contentID { hitsByContent[id] = hits }
            }
            // Processes in a container namespace whose mountinfo collides; the runtime's own
            // namespace is every host process, covered by hostWide instead.
            if let namespace = process.mountNamespace, namespace != snapshot.referenceNamespace?.id {
                hits += collidingNamespaces[namespace] ?? []
            }
            for at in hits where groups[at].pids.insert(process.pid).inserted {
                let path = process.cgroups.entries.first { $0.controllers.contains(Controller(groups[at].slot.rawValue)) }?.path
                groups[at].affected.append(
                    AffectedProcess(
                        pid: process.pid, command: snapshot.command(of: process.pid), cgroupPath: (path ?? "/").string,
                        workload: Workload.of(process.cgroups)))
            }
        }
        return groups.map { finding(for: $0) }
    }

    private func finding(for group: Group) -> Finding {
        let slot = group.slot.rawValue
        let subject = group.hierarchy.map { "hierarchy \($0.id) (\($0.label))" } ?? "a cgroup mount"
        var evidence: [Evidence] = []
        var seenFiles: Set<String> = []
        for (namespace, mount) in group.mountSeen where seenFiles.insert(namespace.mountInfo.file).inserted && evidence.count < 3 {
            evidence.append(Evidence(mount, file: namespace.mountInfo.file))
        }
        if let (entry, file) = group.lineSeen { evidence.append(Evidence(entry, file: file)) }
        let mountPoints = Array(Set(group.mountSeen.map(\.mount.mountPoint.string))).sorted()
        let what: String
        if !group.mountSeen.isEmpty {
            let count = group.namespaceIDs.count
            what = "its mount\(mountPoints.count == 1 ? "" : "s") \(mountPoints.joined(separator: ", ")) contain\(mountPoints.count == 1 ? "s" : "") \"\(slot)\" only as a substring "
                + "and \(mountPoints.count == 1 ? "is" : "are") the last \"\(slot)\" match in \(count) mount namespace\(count == 1 ? "" : "s")"
                + (group.runtimeNamespace ? " (the runtime's included)" : "")
        } else {
            what = "its /proc/<pid>/cgroup line is the last whose controller field contains \"\(slot)\""
        }
        let summary = "\(subject) is taken for the \(slot) controller by JVMs with the pre-fix substring matcher (8u191-8u202 era): \(what)"

        let effect: String
        switch group.slot {
        case .cpu: effect = "read cpu.cfs_quota_us, cpu.cfs_period_us and cpu.shares from it, find none, and use the host's CPU count for GC, JIT and ForkJoin threads"
        case .memory: effect = "read memory.limit_in_bytes from it, find none, and size the heap (MaxRAMPercentage) to the host's memory: the container is OOM-killed under load"
        case .cpuset: effect = "read cpuset.cpus from it and find none (the CPU count still follows the affinity mask)"
        case .cpuacct: effect = "read CPU usage from it; no limit depends on it"
        }
        let explanation = "Before the fix \"Container Support doesn't work for some Join Controllers combinations\", HotSpot's "
            + "OSContainer::init() matched controllers with strstr: on every cgroup line of /proc/self/mountinfo (the whole line) in "
            + "the order memory, cpuset, \"cpu,cpuacct\", cpuacct, cpu, later lines overwriting earlier ones, and on the controller "
            + "field of /proc/self/cgroup. \(subject) does not carry the \(slot) controller, yet that matcher picks it for \(slot). "
            + "Exact-token consumers (containerd, runc, Go, later JDKs) are not affected. runc bind-mounts every v1 hierarchy into "
            + "each container at /sys/fs/cgroup/<name>, so a host mount like this reaches every JVM started on the node."
        let impacts = [
            Impact(
                consumer: "HotSpot with the pre-fix container code (OpenJDK/Oracle 8u191 through at least 8u202, JDK 10, 11 before the fix; exact updates UNVERIFIED)",
                effect: effect, message: nil),
            Impact(
                consumer: "containerd, runc, Go runtime, automaxprocs, HotSpot after the fix",
                effect: "unaffected: they match exact super-option tokens", message: nil),
        ]
        return Finding(
            id: id, severity: severity, summary: summary, explanation: explanation, evidence: evidence,
            affected: group.affected, impacts: impacts, remediation: remediation(group, mountPoints: mountPoints),
            hierarchy: group.hierarchy, hostWide: group.runtimeNamespace)
    }

    private func remediation(_ group: Group, mountPoints: [String]) -> Remediation {
        let slot = group.slot.rawValue
        var commands = [
            "java -XX:+UnlockDiagnosticVMOptions -XX:+PrintContainerInfo -version 2>&1 | grep -i -e cpu -e memory   # inside a container: which paths the JVM reads"
        ]
        var text = "Upgrade the JVMs to a release with the fix (current 8u and 11u updates and every later JDK match exact "
            + "tokens), or make sure no cgroup line of mountinfo contains \"\(slot)\" except the real \(slot) controller's. "
        if let name = group.hierarchy?.name {
            text += "A named hierarchy cannot be renamed (the kernel refuses to change name= on a populated hierarchy): create one "
                + "under a name without \"\(slot)\", move the agent's tasks there, then destroy name=\(name). Do not just umount "
                + "name=\(name): with child cgroups it stays alive unmounted, and containerd then fails with "
                + "\"cgroups: cannot find cgroup mount destination\" (the hierarchy-not-mounted finding)."
            commands.append("mkdir -p /sys/fs/cgroup/agent_mirror && mount -t cgroup -o none,name=agent_mirror cgroup /sys/fs/cgroup/agent_mirror   # a name without \"\(slot)\"")
        } else {
            text += "Move the mount to a path without \"\(slot)\"."
            for mountPoint in mountPoints {
                commands.append("umount \(mountPoint)   # then mount it again at a path without \"\(slot)\"")
            }
        }
        commands.append("# until then, per JVM: -XX:ActiveProcessorCount=<cpus> -XX:MaxRAM=<container memory limit>")
        return Remediation(text: text, commands: commands)
    }
}
