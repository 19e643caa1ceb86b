/// containerd/cgroups' v1 lookup, replayed rule for rule over the bytes containerd reads.
///
/// Follows github.com/containerd/cgroups v1.0.4 (the version Debian 12 builds containerd 1.6.20
/// with: `Built-Using: golang-github-containerd-cgroups (= 1.0.4-1)`; source read from
/// /usr/share/gocode/src/github.com/containerd/cgroups): `paths.go` (`PidPath`, `existingPath`),
/// `utils.go` (`ParseCgroupFile`, `parseCgroupFromReaderUnified`, `getCgroupDestination`,
/// `defaults`), `v1.go` (`V1`, `v1MountPoint`), `cgroup.go` (`Load`), `errors.go`. The same
/// algorithm is in `cgroup1/` of containerd/cgroups v3 (research/runtime-anchors.md §1.1–1.2).
///
/// These are pure functions from bytes: the model decides which files to hand them. Go's
/// `bufio.Scanner` line rules and `strings.Split` field rules are kept (fields split on single
/// spaces, the root taken raw from field 4 without octal unescaping), because that is what
/// containerd compares.
enum ContainerdCgroupsV1 {
    /// `ErrNoCgroupMountDestination`. Names no hierarchy; it never has (2016 to v3.1.3).
    static let errNoCgroupMountDestination = "cgroups: cannot find cgroup mount destination"
    /// `ErrMountPointNotExist`: `v1MountPoint` found no fstype-`cgroup` line (a v2-only host).
    static let errMountPointNotExist = "cgroups: cgroup mountpoint does not exist"
    /// `ErrCgroupDeleted`: tolerated by both runtimes (the task simply has no cgroup).
    static let errCgroupDeleted = "cgroups: cgroup deleted"
    /// `ErrControllerNotActive`: `Load` skips the subsystem.
    static let errControllerNotActive = "controller is not supported"

    /// `bufio.Scanner` with `ScanLines`: split at `\n`, drop one trailing `\r`, no empty last token.
    static func scanLines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var line = bytes[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            start = end == bytes.endIndex ? end : end + 1
        }
        return lines
    }

    /// Go's `%q` for the error texts that quote a line (enough for /proc text: quotes, backslashes, control bytes).
    static func goQuote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    // MARK: /proc/<pid>/cgroup

    /// One key of the map `ParseCgroupFile` returns, with the line it came from.
    struct CgroupKey: Sendable, Hashable {
        /// A controller (`cpu`) or a named hierarchy with its prefix (`name=cpu_mirror`).
        var key: String
        var path: String
        /// 1-based line in the cgroup file.
        var line: Int
        var lineText: String
    }

    /// `parseCgroupFromReaderUnified`: `SplitN(line, ":", 3)`, fewer than 3 parts is an error; every
    /// comma token of field 2 becomes a key (a later line overwrites an earlier key, as a Go map
    /// does); the empty token (the `0::` line) is the unified path, which `ParseCgroupFile` drops.
    /// The hierarchy ID is never parsed, so a line with a leading TAB still counts.
    static func parseCgroupFile(_ bytes: [UInt8]) -> Result<(keys: [CgroupKey], unified: String?), GoError> {
        var keys: [CgroupKey] = []
        var index: [String: Int] = [:]
        var unified: String?
        for (offset, text) in scanLines(bytes).enumerated() {
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                return .failure(GoError("invalid cgroup entry: \(goQuote(text))"))
            }
            for token in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                if token.isEmpty {
                    unified = String(parts[2])
                    continue
                }
                let key = CgroupKey(key: String(token), path: String(parts[2]), line: offset + 1, lineText: text)
                if let existing = index[key.key] {
                    keys[existing] = key
                } else {
                    index[key.key] = keys.count
                    keys.append(key)
                }
            }
        }
        return .success((keys, unified))
    }

    // MARK: mountinfo

    /// The mountinfo line `getCgroupDestination` settles on.
    struct Destination: Sendable, Hashable {
        /// Field 4 (the root of the mount), raw.
        var root: String
        /// Field 5, raw.
        var mountPoint: String
        var line: Int
    }

    /// `getCgroupDestination(subsystem)`: the first line (fields split on single spaces, at least
    /// 10) whose third-last field is exactly `cgroup` and whose last field, split on `,`, has a
    /// token equal to `subsystem`. Exact token: `cpu` never matches `name=cpu_mirror`.
    static func cgroupDestination(_ subsystem: String, mountInfoLines lines: [String]) -> Destination? {
        for (offset, text) in lines.enumerated() {
            let fields = text.split(separator: " ", omittingEmptySubsequences: false)
            if fields.count < 10 { continue }
            if fields[fields.count - 3] != "cgroup" { continue }
            for option in fields[fields.count - 1].split(separator: ",", omittingEmptySubsequences: false)
            where option == subsystem {
                return Destination(root: String(fields[3]), mountPoint: String(fields[4]), line: offset + 1)
            }
        }
        return nil
    }

    /// `v1MountPoint`: `filepath.Dir` of the mount point of the first fstype-`cgroup` line. A line
    /// with fewer than 10 fields before it is an error; no such line is `ErrMountPointNotExist`.
    static func v1MountPoint(mountInfoLines lines: [String]) -> Result<(root: String, line: Int), GoError> {
        for (offset, text) in lines.enumerated() {
            let fields = text.split(separator: " ", omittingEmptySubsequences: false)
            if fields.count < 10 { return .failure(GoError("mountinfo: bad entry \(goQuote(text))")) }
            if fields[fields.count - 3] == "cgroup" {
                return .success((GoPath.dir(String(fields[4])), offset + 1))
            }
        }
        return .failure(GoError(errMountPointNotExist))
    }

    // MARK: existingPath

    /// The outcome of `existingPath` over every key: either each key's localized path, or the
    /// error of the first failing key. Go iterates the map in random order, so which key fails
    /// first varies from run to run; the message does not (it names none), and ``unmounted`` lists
    /// all of them.
    struct ExistingPaths: Sendable, Hashable {
        /// key -> `Join("/", Rel(dest, path))`, or `Join("/", dest)` when `Rel == "."`.
        var paths: [String: String]
        /// Keys with no fstype-`cgroup` mount carrying them as a super option.
        var unmounted: [CgroupKey]
        /// Keys whose path is not at or below their mount's root: `Rel` starts with `..` and the
        /// joined result is silently a different cgroup.
        var outsideRoot: [(key: CgroupKey, destination: Destination, result: String)]
        /// Keys that hit the `Rel == "." -> dest` branch at a mount whose root is not `/`.
        var atRoot: [(key: CgroupKey, destination: Destination, result: String)]

        var error: String? { unmounted.isEmpty ? nil : ContainerdCgroupsV1.errNoCgroupMountDestination }

        static func == (lhs: ExistingPaths, rhs: ExistingPaths) -> Bool {
            lhs.paths == rhs.paths && lhs.unmounted == rhs.unmounted
        }
        func hash(into hasher: inout Hasher) {
            hasher.combine(paths)
            hasher.combine(unmounted)
        }
    }

    /// `existingPath(paths, "")`.
    static func existingPath(_ keys: [CgroupKey], mountInfoLines lines: [String]) -> ExistingPaths {
        var result = ExistingPaths(paths: [:], unmounted: [], outsideRoot: [], atRoot: [])
        for key in keys {
            guard let destination = cgroupDestination(key.key, mountInfoLines: lines) else {
                result.unmounted.append(key)
                continue
            }
            var rel = GoPath.rel(destination.root, key.path)
            let atRoot = rel == "."
            if atRoot { rel = destination.root }
            let localized = GoPath.join("/", rel)
            result.paths[key.key] = localized
            // At a mount rooted at "/" the branch changes nothing; only a nested root makes it a quirk.
            if atRoot && GoPath.clean(destination.root) != "/" {
                result.atRoot.append((key, destination, localized))
            } else if !atRoot && (rel == ".." || rel.hasPrefix("../")) {
                result.outsideRoot.append((key, destination, localized))
            }
        }
        return result
    }

    /// The closure `existingPath` returns: `paths[name]`, then `paths["name="+name]`, else
    /// `ErrControllerNotActive`.
    static func lookup(_ name: String, in paths: [String: String]) -> Result<String, GoError> {
        if let path = paths[name] ?? paths["name=" + name] { return .success(path) }
        return .failure(GoError(errControllerNotActive))
    }

    /// `defaults(root)` order, which is also the order `Load` checks them in. `devices` is left out
    /// in a user namespace and `hugetlb` when /sys/kernel/mm/hugepages cannot be read.
    static let defaultSubsystems = [
        "systemd", "freezer", "pids", "net_cls", "net_prio", "perf_event", "cpuset", "cpu", "cpuacct", "memory", "blkio",
        "rdma", "devices", "hugetlb",
    ]
}

/// An error as a Go program prints it (`err.Error()`).
struct GoError: Error, Sendable, Hashable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension GoPath {
    /// `filepath.Dir`.
    static func dir(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return clean(String(path[...slash]))
    }

    /// `filepath.Base`.
    static func base(_ path: String) -> String {
        if path.isEmpty { return "." }
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed == "/" { return "/" }
        if let slash = trimmed.lastIndex(of: "/") { return String(trimmed[trimmed.index(after: slash)...]) }
        return String(trimmed)
    }
}
