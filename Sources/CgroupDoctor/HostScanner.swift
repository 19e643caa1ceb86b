import CgroupFormats
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a ``HostSnapshot`` from a ``Sysroot`` in one pass over /proc:
/// `/proc/cgroups` once, every `/proc/<pid>/cgroup` once, one `readlink /proc/<pid>/ns/mnt` per
/// process, and one mountinfo per distinct mount namespace (never one per process: that is
/// P x M and takes minutes on a 10k x 10k node).
public struct HostScanner: Sendable {
    public var sysroot: Sysroot
    /// The pid whose mount namespace is the runtime's view (containerd usually shares PID 1's).
    public var referencePID: Int32

    public init(sysroot: Sysroot = .live, referencePID: Int32 = 1) {
        self.sysroot = sysroot
        self.referencePID = referencePID
    }

    /// Mount types kept from each mountinfo; the rest of each line is validated but not decoded.
    static let cgroupFileSystems = MountInfo.Selection.fileSystemTypes(["cgroup", "cgroup2"])

    /// Scans the host. Throws only when the host cannot be examined at all: /proc cannot be listed,
    /// or the reference process's mountinfo cannot be read.
    public func snapshot(onlyPIDs: Set<Int32>? = nil) throws(SystemError) -> HostSnapshot {
        var buffer = ReadBuffer()
        var problems: [ReadProblem] = []
        var commands: [Int32: String] = [:]

        var controllers: CgroupControllers?
        do {
            try sysroot.read("/proc/cgroups", into: &buffer)
            controllers = buffer.withBytes { CgroupControllers.parse($0, file: "/proc/cgroups") }
        } catch {
            if !error.isNotFound || sysroot.isLive { problems.append(ReadProblem(error: error, pid: nil)) }
        }

        // The runtime's view first: without it there is nothing to diagnose against.
        let referenceLink = namespaceKey(of: referencePID)
        let referenceKey = referenceLink ?? "pid:\(referencePID)"
        try sysroot.read(FilePath("/proc/\(referencePID)/mountinfo"), into: &buffer)
        // When the reference's ns/mnt link is unreadable (EACCES on PID 1 inside some sandboxes),
        // a process in the same namespace is recognised by an identical mountinfo: mount ids are
        // unique, so a different namespace never prints the same table.
        let referenceBytes: [UInt8]? = referenceLink == nil ? buffer.bytes : nil
        var namespaces: [MountNamespace] = [
            MountNamespace(
                id: referenceKey, holderPID: referencePID, holderCommand: command(of: referencePID, &commands),
                processCount: 0,
                mountInfo: buffer.withBytes {
                    MountInfo.parse($0, file: "/proc/\(referencePID)/mountinfo", selecting: Self.cgroupFileSystems)
                })
        ]
        var namespaceIndex: [String: Int] = [referenceKey: 0]

        var parsedCgroups = CgroupFileCache()
        var pids = try sysroot.processIDs()
        pids.sort()
        var processes: [ProcessRecord] = []
        processes.reserveCapacity(pids.count)
        var exited = 0
        for pid in pids {
            if let onlyPIDs, !onlyPIDs.contains(pid) && pid != referencePID { continue }
            let cgroupFile = "/proc/\(pid)/cgroup"
            do {
                try sysroot.read(FilePath(cgroupFile), into: &buffer)
            } catch {
                if error.isNotFound { exited += 1 } else { problems.append(ReadProblem(error: error, pid: pid)) }
                continue
            }
            let (cgroups, contentID) = buffer.withBytes { parsedCgroups.parse($0, file: cgroupFile) }
            let key = pid == referencePID ? namespaces[0].id : namespaceKey(of: pid)
            if let key {
                if let index = namespaceIndex[key] {
                    namespaces[index].processCount += 1
                } else {
                    do {
                        let file = "/proc/\(pid)/mountinfo"
                        try sysroot.read(FilePath(file), into: &buffer)
                        if let bytes = referenceBytes, namespaces[0].id == referenceKey,
                            buffer.withBytes({ equal(bytes, $0) })
                        {
                            // The reference's namespace after all: give it its real identity.
                            namespaceIndex[referenceKey] = nil
                            namespaceIndex[key] = 0
                            namespaces[0].id = key
                            namespaces[0].processCount += 1
                            for index in processes.indices where processes[index].mountNamespace == referenceKey {
                                processes[index].mountNamespace = key
                            }
                            processes.append(ProcessRecord(pid: pid, cgroups: cgroups, mountNamespace: key, contentID: contentID))
                            continue
                        }
                        namespaceIndex[key] = namespaces.count
                        namespaces.append(
                            MountNamespace(
                                id: key, holderPID: pid, holderCommand: command(of: pid, &commands), processCount: 1,
                                mountInfo: buffer.withBytes { MountInfo.parse($0, file: file, selecting: Self.cgroupFileSystems) }))
                    } catch {
                        // Exited: a later process of the same namespace will read it. mountinfo of a
                        // task that is gone (or has no namespace any more) fails with EINVAL
                        // (mounts_open_common in fs/proc_namespace.c), not ENOENT.
                        if !error.isNotFound && !error.isInvalidArgument {
                            problems.append(ReadProblem(error: error, pid: pid))
                        }
                    }
                }
            }
            processes.append(ProcessRecord(pid: pid, cgroups: cgroups, mountNamespace: key, contentID: contentID))
        }
        _ = command(of: 1, &commands)
        let (roots, cgroup2) = readHierarchyRoots(namespaces[0], controllers: controllers, processes: processes)
        var release: String?
        if var bytes = try? sysroot.read("/proc/sys/kernel/osrelease") {
            while bytes.last == 0x0A { bytes.removeLast() }
            release = String(decoding: bytes, as: UTF8.self)
        }
        return HostSnapshot(
            sysroot: sysroot, referencePID: referencePID, controllers: controllers, processes: processes,
            namespaces: namespaces, exitedDuringScan: exited, problems: problems, commands: commands,
            hierarchyRoots: roots, cgroup2Root: cgroup2, kernelRelease: release)
    }

    /// /proc/cgroups counts at or above which the live cgroups of a hierarchy are counted (a walk
    /// of its directories) to tell how many are dying.
    public static let dyingCountThreshold = 1000

    /// Reads `release_agent` (and, for large hierarchies, counts live cgroups) at the root of each
    /// v1 hierarchy mounted with root `/` in the runtime's namespace, and the cgroup2 root files.
    func readHierarchyRoots(_ reference: MountNamespace, controllers: CgroupControllers?, processes: [ProcessRecord])
        -> ([HierarchyRoot], Cgroup2Root?)
    {
        // The kernel lists every live hierarchy in every process's cgroup file, so one process names them all.
        let sample = processes.first { $0.pid == referencePID } ?? processes.first
        let listed = (sample?.cgroups.entries ?? []).map(Hierarchy.init)
        var roots: [HierarchyRoot] = []
        var cgroup2: Cgroup2Root?
        for mount in reference.mountInfo.entries where mount.root == "/" {
            if mount.fileSystemType == "cgroup2" {
                if cgroup2 == nil {
                    let controllersFile = try? sysroot.read(mount.mountPoint.appending("cgroup.controllers"))
                    let statFile = try? sysroot.read(mount.mountPoint.appending("cgroup.stat"))
                    cgroup2 = Cgroup2Root(
                        mount: mount, controllers: controllersFile.map(ControllerList.parse),
                        stat: statFile.map { FlatKeyedFile.parse($0, file: mount.mountPoint.appending("cgroup.stat").string) })
                }
                continue
            }
            guard mount.fileSystemType == "cgroup",
                let hierarchy = listed.first(where: { !$0.isUnified && $0.isMounted(by: mount) }),
                !roots.contains(where: { $0.hierarchy.id == hierarchy.id })
            else { continue }
            var agent: String?
            if var bytes = try? sysroot.read(mount.mountPoint.appending("release_agent")) {
                while bytes.last == 0x0A { bytes.removeLast() }
                agent = String(decoding: bytes, as: UTF8.self)
            }
            var live: Int?
            let counted = hierarchy.controllers.compactMap { controllers?.entry(for: $0)?.cgroupCount }.max() ?? 0
            if counted >= Self.dyingCountThreshold {
                live = try? sysroot.countSubdirectories(mount.mountPoint)
            }
            roots.append(HierarchyRoot(hierarchy: hierarchy, mount: mount, releaseAgent: agent, liveCgroups: live))
        }
        return (roots, cgroup2)
    }

    /// `/proc/<pid>/ns/mnt`, or nil when unreadable (exited, or a capture without ns links).
    func namespaceKey(of pid: Int32) -> String? {
        try? sysroot.readLink(FilePath("/proc/\(pid)/ns/mnt"))
    }

    func command(of pid: Int32, _ cache: inout [Int32: String]) -> String? {
        if let known = cache[pid] { return known }
        guard let name = readCommand(pid) else { return nil }
        cache[pid] = name
        return name
    }

    /// `/proc/<pid>/comm` without its newline.
    public func readCommand(_ pid: Int32) -> String? {
        guard var bytes = try? sysroot.read(FilePath("/proc/\(pid)/comm")) else { return nil }
        while let last = bytes.last, last == 0x0A { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Where are process `pid`'s cgroups, per line of its `/proc/<pid>/cgroup`, as seen from the
    /// reference process's mount namespace. The library call behind `cgdoctor paths`.
    public func paths(of pid: Int32) throws(PathsError) -> ProcessPaths {
        let cgroupFile = "/proc/\(pid)/cgroup"
        let cgroupBytes: [UInt8]
        do {
            cgroupBytes = try sysroot.read(FilePath(cgroupFile))
        } catch {
            throw error.isNotFound ? .noSuchProcess(pid: pid, error: error) : .unreadable(error)
        }
        let mountInfoFile = "/proc/\(referencePID)/mountinfo"
        let mountBytes: [UInt8]
        do {
            mountBytes = try sysroot.read(FilePath(mountInfoFile))
        } catch {
            throw .unreadable(error)
        }
        let mountInfo = MountInfo.parse(mountBytes, file: mountInfoFile, selecting: Self.cgroupFileSystems)
        return PathResolver.resolve(ProcessCgroups.parse(cgroupBytes, file: cgroupFile), pid: pid, mountInfo: mountInfo)
    }
}

/// Why `paths(of:)` could not answer at all.
public enum PathsError: Error, Sendable, CustomStringConvertible {
    case noSuchProcess(pid: Int32, error: SystemError)
    case unreadable(SystemError)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid, let error): "no process \(pid): \(error)"
        case .unreadable(let error): "\(error)"
        }
    }
}

/// Processes of one container have byte-identical `/proc/<pid>/cgroup` files (20 per container on
/// a busy node), so each distinct content is parsed once and its entries shared (copy-on-write):
/// on a 10,000-process node this saves most of the parse allocations and memory. Keyed by a
/// 64-bit FNV-1a hash and confirmed byte for byte, so a collision only costs a parse.
struct CgroupFileCache {
    private var byHash: [UInt64: (bytes: [UInt8], parsed: ProcessCgroups, id: Int)] = [:]
    private var nextID = 0

    /// The parsed file and an id shared by every process with the same content.
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> (ProcessCgroups, contentID: Int) {
        let hash = Self.hash(bytes)
        if let hit = byHash[hash], equal(hit.bytes, bytes) {
            var parsed = hit.parsed
            parsed.file = file
            return (parsed, hit.id)
        }
        let parsed = ProcessCgroups.parse(bytes, file: file)
        nextID += 1
        // Files with rejected lines are not shared: their errors name this file.
        if parsed.errors.isEmpty { byHash[hash] = (Array(bytes), parsed, nextID) }
        return (parsed, nextID)
    }

    /// FNV-1a over 8-byte words (then the tail bytes): a few ms for 12 MB of cgroup files.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let prime: UInt64 = 0x0000_0100_0000_01b3
        guard let base = bytes.baseAddress else { return hash }
        let raw = UnsafeRawPointer(base)
        let words = bytes.count / 8
        for index in 0..<words {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) &* prime
        }
        for index in (words * 8)..<bytes.count { hash = (hash ^ UInt64(bytes[index])) &* prime }
        return hash ^ UInt64(bytes.count)
    }
}

/// Byte equality through memcmp: the generic `elementsEqual` showed up at 4% of a 10k-process check.
func equal(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard let base = b.baseAddress, !a.isEmpty else { return true }
    return a.withUnsafeBufferPointer { memcmp($0.baseAddress!, base, a.count) == 0 }
}
