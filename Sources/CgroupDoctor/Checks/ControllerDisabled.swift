import CgroupFormats
import SystemPackage

/// `controller-disabled`: a controller compiled into the kernel but switched off at boot
/// (`/proc/cgroups` column 4, `enabled`, is 0).
///
/// Kernel: `cgroup_disable=<name>` on the command line clears the controller
/// (`cgroup_disable()` → `static_branch_disable`); it can then be neither mounted as v1 nor enabled
/// on v2 (absent from `cgroup.controllers`), and `/proc/cgroups` shows it with hierarchy 0 and
/// enabled 0. Raspberry Pi kernels disable `memory` by default (raspberrypi/linux#1198: enable with
/// `cgroup_enable=memory`; raspberrypi/linux#3644 for 5.4, #5933 for the Pi 5), the most reported
/// case; RHEL 8 hosts with `cpuset` disabled appear in the JDK's tests (openjdk/jdk
/// test/hotspot/jtreg/containers/cgroup/CgroupSubsystemFactory.java, testCgroupv1CpusetDisabled).
///
/// Consumers:
/// - kubelet on v1 requires cpu, cpuacct, cpuset and memory (`validateSystemRequirements`):
///   "Failed to start ContainerManager system validation failed - Following Cgroup subsystem not
///   mounted: [memory]" (kubernetes/kubernetes#26038 for cpuset, Raspberry Pi reports for memory).
/// - k3s: "failed to find memory cgroup, you may need to add \"cgroup_memory=1
///   cgroup_enable=memory\" to your linux cmdline (/boot/cmdline.txt on a Raspberry Pi)"
///   (k3s-io/k3s#2067, #8890, #9524, #10755).
/// - Docker runs the container anyway and drops the limit: "Your kernel does not support memory
///   limit capabilities or the cgroup is not mounted. Limitation discarded." (moby daemon warnings).
/// - runc (opencontainers/cgroups) skips a controller it cannot find, except devices ("mountpoint
///   for devices not found").
///
/// Severity: `error` when a controller that confines containers (cpu, cpuacct, cpuset, memory, pids,
/// devices) is off: kubelets refuse to start, and containers that ask for limits run without them;
/// `warning` for the others (blkio/io, hugetlb, freezer, net_cls, ...). One finding per host: the
/// cause (the kernel command line) is shared.
/// Fixtures: `rpi5-k3s-9524-memory-disabled-v2` (memory, v2), `rhel8-jdk-cpuset-disabled`
/// (cpuset, v1); clean: `sandbox-process-api-hybrid`. Not stageable live (needs a reboot).
public struct ControllerDisabled: Check {
    public init() {}
    public let id = "controller-disabled"
    public let severity = Severity.error
    public let title = "a cgroup controller is compiled in but disabled at boot (/proc/cgroups enabled=0, cgroup_disable=)"

    /// Controllers without which containers asking for limits run unconfined.
    static let confining: Set<Controller> = [.cpu, .cpuacct, .cpuset, .memory, .pids, .devices]

    public func run(_ snapshot: HostSnapshot) -> [Finding] {
        guard let controllers = snapshot.controllers else { return [] }
        let disabled = controllers.entries.filter { !$0.enabled }
        guard !disabled.isEmpty else { return [] }
        let names = disabled.map(\.controller)
        let list = names.map(\.rawValue).joined(separator: ", ")
        let confining = names.filter { Self.confining.contains($0) }

        var evidence = disabled.map { Evidence(file: controllers.file, line: $0.line, text: $0.text) }
        if let unified = snapshot.cgroup2Root, let available = unified.controllers {
            evidence.append(
                Evidence(
                    file: unified.mount.mountPoint.appending("cgroup.controllers").string, line: 1,
                    text: available.map(\.rawValue).joined(separator: " ")))
        }

        let v1Runtimes = snapshot.mode == .legacy || snapshot.mode == .hybrid
        var impacts: [Impact] = []
        let kubeletRequired = names.filter { [Controller.cpu, .cpuacct, .cpuset, .memory].contains($0) }
        if v1Runtimes && !kubeletRequired.isEmpty {
            impacts.append(
                Impact(
                    consumer: "kubelet (cgroup v1)", effect: "does not start",
                    message: "Failed to start ContainerManager system validation failed - Following Cgroup subsystem not mounted: [\(kubeletRequired.map(\.rawValue).sorted().joined(separator: " "))]"))
        }
        if names.contains(.memory) {
            if v1Runtimes {
                impacts.append(
                    Impact(
                        consumer: "k3s", effect: "does not start",
                        message: "failed to find memory cgroup, you may need to add \"cgroup_memory=1 cgroup_enable=memory\" to your linux cmdline (/boot/cmdline.txt on a Raspberry Pi)"))
            } else {
                impacts.append(
                    Impact(consumer: "k3s", effect: "does not start: it reports the memory cgroup (v2) missing (k3s-io/k3s#9524, #10755)", message: nil))
            }
            impacts.append(
                Impact(
                    consumer: "Docker (docker run -m, compose mem_limit)", effect: "runs the container without the memory limit",
                    message: "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded."))
        }
        if names.contains(.devices) && v1Runtimes {
            impacts.append(Impact(consumer: "runc (opencontainers/cgroups)", effect: "fails to create containers", message: "mountpoint for devices not found"))
        }
        let skipped = names.filter { $0 != .devices || !v1Runtimes }
        if !skipped.isEmpty {
            let limits = skipped.map(\.rawValue).joined(separator: ",")
            impacts.append(
                v1Runtimes
                    ? Impact(
                        consumer: "runc (opencontainers/cgroups v1 driver)",
                        effect: "skips the \(limits) limits of every container: they are not enforced", message: nil)
                    : Impact(
                        consumer: "runc, crun (cgroup v2)",
                        effect: "cannot write \(limits) limit files: a container that asks for such a limit fails to start or runs without it, depending on the runtime version",
                        message: nil))
        }

        let enableArguments = names.map { $0 == .memory ? "cgroup_enable=memory cgroup_memory=1" : "cgroup_enable=\($0.rawValue)" }
            .joined(separator: " ")
        let removeArguments = names.map { "cgroup_disable=\($0.rawValue)" }.joined(separator: " ")
        return [
            Finding(
                id: id, severity: confining.isEmpty ? .warning : .error,
                summary: "cgroup controller\(names.count == 1 ? "" : "s") \(list) \(names.count == 1 ? "is" : "are") disabled in the kernel (\(controllers.file): enabled 0): no cgroup on this node can use \(names.count == 1 ? "it" : "them")",
                explanation: "The kernel has the \(list) controller\(names.count == 1 ? "" : "s") but \(names.count == 1 ? "it was" : "they were") "
                    + "switched off at boot (cgroup_disable= on the kernel command line; Raspberry Pi kernels disable memory unless "
                    + "cgroup_enable=memory is given). A disabled controller cannot be mounted as cgroup v1 and is not offered in "
                    + "cgroup v2's cgroup.controllers, so no runtime can set limits with it.",
                evidence: evidence,
                impacts: impacts,
                remediation: Remediation(
                    text: "Enable \(names.count == 1 ? "it" : "them") on the kernel command line and reboot: remove \(removeArguments), and on "
                        + "Raspberry Pi OS append \(enableArguments) to the single line of /boot/firmware/cmdline.txt (/boot/cmdline.txt "
                        + "before Bookworm). Then check that the enabled column is 1.",
                    commands: [
                        "cat /proc/cmdline",
                        "sudo grubby --update-kernel=ALL --remove-args=\"\(removeArguments)\"   # GRUB hosts (RHEL/Fedora); Debian/Ubuntu: edit GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub",
                        "sudo sed -i '1 s/$/ \(enableArguments)/' /boot/firmware/cmdline.txt   # Raspberry Pi OS (one line only)",
                        "sudo reboot",
                        "awk '$4 == 0' /proc/cgroups   # prints nothing when every controller is enabled",
                    ]),
                hostWide: true)
        ]
    }
}
