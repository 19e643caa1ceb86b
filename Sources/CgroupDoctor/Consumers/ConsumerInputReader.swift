import CgroupFormats
import SystemPackage

/// Builds the ``ConsumerInput`` for one process: what a runtime inside it would read as
/// /proc/self/cgroup, /proc/self/mountinfo, /proc/cgroups, the online CPUs and its affinity.
///
/// On a live host, consumers resolve paths in the process's own mount namespace, not cgdoctor's: a
/// container (or a test) may have its own /sys/fs/cgroup, or bind-mount files over /proc entries. When
/// the process shares cgdoctor's pid namespace, every read therefore goes through
/// `/proc/<pid>/root`, where path lookups follow the process's mounts, and `/proc/<pid>/...` there is
/// exactly what the process sees as `/proc/self/...`. In another pid namespace (a container with its
/// own /proc) the host's /proc/<pid> files are read and only interface files go through its root.
/// Against a capture or fixture (`--root`), everything is read under that root.
public struct ConsumerInputReader: Sendable {
    public var sysroot: Sysroot
    /// The container runtime's pid, passed on to the models that look from its namespace.
    public var runtimePID: Int32

    public init(sysroot: Sysroot, runtimePID: Int32 = 1) {
        self.sysroot = sysroot
        self.runtimePID = runtimePID
    }

    public func input(for pid: Int32) throws(SystemError) -> ConsumerInput {
        let view = processView(pid)
        let procView = samePidNamespace(pid) ? view : sysroot
        let cgroupPath = FilePath("/proc/\(pid)/cgroup")
        let mountInfoPath = FilePath("/proc/\(pid)/mountinfo")
        let cgroupBytes = try procView.read(cgroupPath)
        let mountBytes = try procView.read(mountInfoPath)
        let cgroups = ProcessCgroups.parse(cgroupBytes, file: cgroupPath.string)
        let mountInfo = MountInfo.parse(mountBytes, file: mountInfoPath.string)
        let controllers = (try? view.read("/proc/cgroups")).map { CgroupControllers.parse($0, file: "/proc/cgroups") }
        let online = (try? view.read("/sys/devices/system/cpu/online")).flatMap {
            ConsumerText.cpuListCount(ConsumerText.firstLine($0))
        }
        var affinity: Int?
        if let status = try? procView.read(FilePath("/proc/\(pid)/status")) {
            for line in ConsumerText.string(status).split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
                affinity = ConsumerText.cpuListCount(line.dropFirst("Cpus_allowed_list:".count).trimmingSpaces)
            }
        }
        return ConsumerInput(
            sysroot: view, pid: pid, cgroups: cgroups, mountInfo: mountInfo, controllers: controllers, onlineCPUs: online,
            affinityCPUs: affinity, runtimePID: runtimePID)
    }

    /// The root the process resolves paths from: `/proc/<pid>/root` live (when readable), else the sysroot.
    func processView(_ pid: Int32) -> Sysroot {
        guard sysroot.isLive else { return sysroot }
        let root = Sysroot(FilePath("/proc/\(pid)/root"))
        guard (try? root.listDirectory("/")) != nil else { return sysroot }
        return root
    }

    func samePidNamespace(_ pid: Int32) -> Bool {
        guard sysroot.isLive else { return false }
        guard let theirs = try? sysroot.readLink(FilePath("/proc/\(pid)/ns/pid")), let ours = try? sysroot.readLink("/proc/self/ns/pid")
        else { return false }
        return theirs == ours
    }
}
