import CgroupFormats
import SystemPackage

/// Where a process's cgroup lives on disk, for one line of its `/proc/<pid>/cgroup`.
///
/// The rule every runtime follows in some form: find a mount of the hierarchy, then
/// `directory = mountPoint + (cgroupPath relative to the mount's root)`. cgdoctor does it by path
/// component (`/kubepods/pod1` is not below `/kubepods/pod`), prefers the mount whose root is the
/// closest ancestor of the path (ties go to the first line, as in containerd and runc), and
/// returns a reason instead of guessing when no mount fits. It never joins a `Rel(root, path)` that
/// starts with `..` the way containerd's `existingPath` and runc's `getCgroupPathHelper` do.
/// Positions and the cases where peers answer differently: docs/conformance.md.
public enum Resolution: Sendable, Hashable {
    case resolved(directory: FilePath, mount: MountEntry)
    case unresolved(UnresolvedReason)

    public var directory: FilePath? {
        if case .resolved(let directory, _) = self { return directory }
        return nil
    }
}

/// Why a line could not be resolved. Each case carries what a message needs to name.
public enum UnresolvedReason: Sendable, Hashable {
    /// No mount of the hierarchy in the mountinfo that was searched.
    case notMounted(hierarchy: Hierarchy, mountInfoFile: String, cgroupMountCount: Int)
    /// Mounts exist, but the cgroup path is not at or below any of their roots.
    case outsideMountRoot(hierarchy: Hierarchy, path: FilePath, mounts: [MountEntry], mountInfoFile: String)
    /// The path, or the root of every mount of the hierarchy, climbs above the reader's cgroup
    /// namespace root (`/../../init.scope`, root `/../../..`) and no mount root is an ancestor of the
    /// path: the names in between are not visible, so the directory cannot be located.
    case outsideCgroupNamespace(hierarchy: Hierarchy, path: FilePath)

    /// One sentence that names the hierarchy, the file searched and why it failed.
    public func explanation(pid: Int32?) -> String {
        let who = pid.map { "pid \($0): " } ?? ""
        switch self {
        case .notMounted(let hierarchy, let file, let count):
            if hierarchy.isUnified {
                return "\(who)cgroup v2 hierarchy (line \"0::\") has no cgroup2 mount in \(file) "
                    + "(\(count) cgroup mount\(count == 1 ? "" : "s") there)"
            }
            let tokens = hierarchy.requiredSuperOptions.joined(separator: ",")
            return "\(who)hierarchy \(hierarchy.id) (\(hierarchy.label)) has no cgroup mount in \(file): "
                + "none of its \(count) cgroup mount\(count == 1 ? "" : "s") carries the super option\(hierarchy.requiredSuperOptions.count == 1 ? "" : "s") \(tokens)"
        case .outsideMountRoot(let hierarchy, let path, let mounts, let file):
            let roots = mounts.map { "\($0.root.string) at \($0.mountPoint.string) (\(file):\($0.line))" }
                .joined(separator: "; ")
            return "\(who)hierarchy \(hierarchy.id) (\(hierarchy.label)): cgroup path \(path.string) is outside the root of every mount of it: \(roots)"
        case .outsideCgroupNamespace(let hierarchy, let path):
            return "\(who)hierarchy \(hierarchy.id) (\(hierarchy.label)): cgroup path \(path.string) lies above the reader's cgroup namespace root"
        }
    }
}

/// The resolution of one `/proc/<pid>/cgroup` line.
public struct ResolvedLine: Sendable, Hashable {
    public var entry: CgroupEntry
    public var resolution: Resolution
    public init(entry: CgroupEntry, resolution: Resolution) {
        self.entry = entry
        self.resolution = resolution
    }
}

/// The answer to "where are process P's cgroups".
public struct ProcessPaths: Sendable, Hashable {
    public var pid: Int32
    /// The cgroup file read (`/proc/42/cgroup`).
    public var cgroupFile: String
    /// The mountinfo the mounts came from (`/proc/1/mountinfo`).
    public var mountInfoFile: String
    public var lines: [ResolvedLine]
    /// Lines of the cgroup file the parser rejected.
    public var errors: [ParseError]

    public init(pid: Int32, cgroupFile: String, mountInfoFile: String, lines: [ResolvedLine], errors: [ParseError]) {
        self.pid = pid
        self.cgroupFile = cgroupFile
        self.mountInfoFile = mountInfoFile
        self.lines = lines
        self.errors = errors
    }

    public var unresolved: [ResolvedLine] { lines.filter { $0.resolution.directory == nil } }
}

public enum PathResolver {
    /// Resolves one line against the mounts of one namespace. Pure.
    ///
    /// Both the mount's root (mountinfo field 4, `cgroup_show_path()`) and the cgroup path
    /// (`proc_cgroup_show()` → `cgroup_path_ns()`) are printed by the kernel relative to the
    /// *reader's* cgroup namespace root, so they compare component by component even when both
    /// climb above it: root `/../../..` is an ancestor of `/../../../init.scope`, and the directory is
    /// the mount point plus `init.scope` (the Go runtime's `out-of-namespace` case). What is never
    /// done is joining a remainder that itself starts with `..`: the names between the namespace root
    /// and a mount root above it are not visible, so such a line is `outsideCgroupNamespace`.
    public static func resolve(_ entry: CgroupEntry, mounts: [MountEntry], mountInfoFile: String) -> Resolution {
        let hierarchy = Hierarchy(entry)
        let candidates = mounts.filter { hierarchy.isMounted(by: $0) }
        guard !candidates.isEmpty else {
            let cgroupMounts = mounts.count { $0.fileSystemType == "cgroup" || $0.fileSystemType == "cgroup2" }
            return .unresolved(.notMounted(hierarchy: hierarchy, mountInfoFile: mountInfoFile, cgroupMountCount: cgroupMounts))
        }
        var best: (mount: MountEntry, depth: Int)?
        for mount in candidates {
            guard let depth = ancestorDepth(mount.root, of: entry.path) else { continue }
            // A remainder that climbs (`..`) would leave the mount: not below this root after all.
            if entry.path.components.dropFirst(depth).contains(where: { $0.kind == .parentDirectory }) { continue }
            if depth > (best?.depth ?? -1) { best = (mount, depth) }
        }
        guard let chosen = best else {
            let climbs: (FilePath) -> Bool = { $0.components.contains { $0.kind == .parentDirectory } }
            if climbs(entry.path) || candidates.contains(where: { climbs($0.root) }) {
                return .unresolved(.outsideCgroupNamespace(hierarchy: hierarchy, path: entry.path))
            }
            return .unresolved(
                .outsideMountRoot(hierarchy: hierarchy, path: entry.path, mounts: candidates, mountInfoFile: mountInfoFile))
        }
        return .resolved(directory: join(chosen.mount.mountPoint, relative(entry.path, below: chosen.mount.root)), mount: chosen.mount)
    }

    /// Resolves every line of a process's cgroup file.
    public static func resolve(_ cgroups: ProcessCgroups, pid: Int32, mountInfo: MountInfo) -> ProcessPaths {
        let lines = cgroups.entries.map {
            ResolvedLine(entry: $0, resolution: resolve($0, mounts: mountInfo.entries, mountInfoFile: mountInfo.file))
        }
        return ProcessPaths(
            pid: pid, cgroupFile: cgroups.file, mountInfoFile: mountInfo.file, lines: lines, errors: cgroups.errors)
    }

    /// The number of components of `root` if it is `path` or an ancestor of it (by component),
    /// else nil. `/kubepods/pod` is not an ancestor of `/kubepods/pod1`.
    public static func ancestorDepth(_ root: FilePath, of path: FilePath) -> Int? {
        let rootComponents = Array(root.components)
        let pathComponents = path.components
        guard pathComponents.starts(with: rootComponents) else { return nil }
        return rootComponents.count
    }

    /// `path` with the first components that make up `root` removed (`root` must be an ancestor).
    public static func relative(_ path: FilePath, below root: FilePath) -> FilePath {
        let drop = Array(root.components).count
        return FilePath(root: nil, path.components.dropFirst(drop))
    }

    static func join(_ base: FilePath, _ relative: FilePath) -> FilePath {
        relative.isEmpty ? base : base.pushing(relative)
    }
}
