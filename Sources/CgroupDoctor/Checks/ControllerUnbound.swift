import CgroupFormats
import SystemPackage

/// `controller-unbound`: a controller that is enabled (`/proc/cgroups` enabled 1) but bound to no
/// v1 hierarchy (hierarchy 0) and not usable on cgroup v2 from the runtime's mount namespace either.
///
/// Kernel: a controller not bound to a v1 hierarchy belongs to the default (v2) hierarchy, but it is
/// usable there only if (a) cgroup2 is mounted and (b) the controller has a v2 interface. Controllers
/// without v2 files (`net_cls`, `net_prio`: their `dfl_cftypes` are NULL, so `cgroup_init()` puts
/// them in `cgrp_dfl_inhibit_ss_mask`) never appear in `cgroup.controllers`; on v2 their job is done
/// by matching the socket's cgroup path (`iptables -m cgroup --path`, BPF). Handled honestly:
/// - `perf_event` is implicit on v2 (`implicit_on_dfl`): enabled in every cgroup, never listed in
///   `cgroup.controllers`; kernels ≥ 6.11 count it as `nr_subsys_perf_event` in `cgroup.stat`. It is
///   usable whenever cgroup2 is mounted.
/// - `blkio` is the same controller as v2 `io` (`/proc/cgroups` prints the legacy name).
/// - `cpuacct`, `devices`, `freezer` are replaced on v2 by core features (`cpu.stat`, BPF device
///   programs, `cgroup.freeze`): not a gap when cgroup2 is at /sys/fs/cgroup (runtimes use their v2
///   code), but on a legacy/hybrid host v1 runtimes need them mounted as v1.
/// - When cgroup2 is mounted but its root `cgroup.controllers` could not be read, nothing is claimed.
///
/// Consequences: runc's v1 driver (opencontainers/cgroups `fs/paths.go` `initPaths`) skips every
/// subsystem it cannot find except `devices`, so an OCI spec's `linux.resources.network.classID` /
/// `priorities` are silently not applied; Docker and Kubernetes never set net_cls/net_prio (no
/// `docker run` flag, no pod field) and are unaffected. Tools that tag traffic by `net_cls.classid`
/// (tc `cgroup` classifier, `iptables -m cgroup --cgroup`, Mullvad's split tunnelling, Mesos'
/// `cgroups/net_cls` isolator) must mount it themselves. A missing `devices` hierarchy makes runc
/// fail ("mountpoint for devices not found").
///
/// `info` (nothing a default container stack uses). One finding per host listing every such
/// controller. Fixtures: `sandbox-process-api-hybrid` (net_cls, net_prio; perf_event implicit,
/// hugetlb on v2), `rpi5-k3s-9524-memory-disabled-v2` (net_cls, net_prio on a unified host);
/// clean: `synthetic-cpu-mirror-unmounted`. Live: ControllerUnboundLiveTests (this machine).
public struct ControllerUnbound: Check {
    public init() {}
    public let id = "controller-unbound"
    public let severity = Severity.info
    public let title = "a controller is enabled but bound to no v1 hierarchy and not usable on cgroup v2"

    /// Enabled in every v2 cgroup without being listed in cgroup.controllers.
    static let implicitOnV2: Set<Controller> = [.perfEvent]
    /// v1 controllers whose job v2 does in its core (cpu.stat, BPF device programs, cgroup.freeze).
    static let coreOnV2: Set<Controller> = [.cpuacct, .devices, .freezer]

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        guard let controllers = snapshot.controllers, let reference = snapshot.referenceNamespace else { return [] }
        let v2Mounts = reference.mountInfo.entries.filter { $0.fileSystemType == "cgroup2" }
        let v2AtDefault = v2Mounts.contains { $0.mountPoint == "/sys/fs/cgroup" }
        let available: [Controller]?
        if v2Mounts.isEmpty {
            available = []
        } else if let listed = snapshot.cgroup2Root?.controllers {
            available = listed
        } else {
            return []  // cgroup2 is mounted but its cgroup.controllers is unknown: claim nothing.
        }

        var unbound: [ControllerEntry] = []
        for entry in controllers.entries where entry.enabled && entry.hierarchyID == 0 {
            let controller = entry.controller
            if !v2Mounts.isEmpty && Self.implicitOnV2.contains(controller) { continue }
            if v2AtDefault && Self.coreOnV2.contains(controller) { continue }
            let v2Name: Controller = controller == .blkio ? .io : controller
            if available?.contains(v2Name) == true { continue }
            unbound.append(entry)
        }
        guard !unbound.isEmpty else { return [] }
        let names = unbound.map(\.controller)
        let list = names.map(\.rawValue).joined(separator: ", ")

        var evidence = unbound.map { Evidence(file: controllers.file, line: $0.line, text: $0.text) }
        if let root = snapshot.cgroup2Root, let listed = root.controllers {
            evidence.append(
                Evidence(
                    file: root.mount.mountPoint.appending("cgroup.controllers").string, line: 1,
                    text: listed.map(\.rawValue).joined(separator: " ")))
        } else if v2Mounts.isEmpty {
            evidence.append(
                Evidence(file: reference.mountInfo.file, line: nil, text: "no cgroup2 mount in the runtime's mount namespace \(reference.id)"))
        }
        let v1Only = names.filter { [Controller.netCls, .netPrio].contains($0) }
        let why: String
        if !v1Only.isEmpty && v1Only.count == names.count {
            why = "\(list) exist only in cgroup v1 (the kernel gives them no cgroup v2 files), and no v1 hierarchy carries them, "
                + "so no cgroup can set a net_cls.classid or net_prio.ifpriomap. On cgroup v2 the same job is done by matching a "
                + "socket's cgroup path (iptables -m cgroup --path, BPF)."
        } else {
            why = "\(list) \(names.count == 1 ? "is" : "are") enabled in the kernel but bound to no v1 hierarchy (/proc/cgroups "
                + "hierarchy 0) and not available on cgroup v2 in the runtime's mount namespace"
                + (v2Mounts.isEmpty ? " (cgroup2 is not mounted there)." : " (not in the root cgroup.controllers).")
        }

        var impacts = [
            Impact(
                consumer: "runc (opencontainers/cgroups v1 driver)",
                effect: "skips \(list): an OCI spec's limits for \(names.count == 1 ? "it" : "them") are silently not applied", message: nil),
            Impact(
                consumer: "Docker, Kubernetes (kubelet, containerd CRI)",
                effect: names.allSatisfy { [Controller.netCls, .netPrio, .perfEvent, .rdma, .misc].contains($0) }
                    ? "unaffected: they never set \(list)" : "cannot apply \(list) limits", message: nil),
        ]
        if !v1Only.isEmpty {
            impacts.append(
                Impact(
                    consumer: "traffic tagging by net_cls.classid (tc cgroup classifier, iptables -m cgroup --cgroup, Mullvad split tunnelling, Mesos cgroups/net_cls)",
                    effect: "must mount net_cls itself or does not work", message: nil))
        }
        if names.contains(.devices) {
            impacts.append(Impact(consumer: "runc (opencontainers/cgroups)", effect: "fails to create containers", message: "mountpoint for devices not found"))
        }

        let options = names.map(\.rawValue).joined(separator: ",")
        // On a unified host /sys/fs/cgroup is cgroup2 itself: mkdir there would create a v2 cgroup.
        let directory = v2AtDefault ? "/run/cgroup-v1/\(options)" : "/sys/fs/cgroup/\(options)"
        return [
            Finding(
                id: id, severity: severity,
                summary: "controller\(names.count == 1 ? "" : "s") \(list) \(names.count == 1 ? "is" : "are") enabled but bound to no hierarchy: no v1 mount carries \(names.count == 1 ? "it" : "them") and cgroup v2 here cannot use \(names.count == 1 ? "it" : "them")",
                explanation: why,
                evidence: evidence,
                impacts: impacts,
                remediation: Remediation(
                    text: "Nothing to do unless something on this node needs \(list). Such a tool can mount \(names.count == 1 ? "it" : "them") "
                        + "as a v1 hierarchy (allowed next to cgroup v2: net_cls and net_prio have no v2 side to lose); on cgroup v2 prefer "
                        + "matching the socket's cgroup path instead of a classid.",
                    commands: [
                        "awk '$2 == 0 && $4 == 1' /proc/cgroups",
                        "sudo mkdir -p \(directory) && sudo mount -t cgroup -o \(options) cgroup \(directory)   # only if a tool needs it",
                    ]))
        ]
    }
}
