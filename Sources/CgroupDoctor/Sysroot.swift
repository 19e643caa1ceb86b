import SystemPackage

/// The one way in to a host. Every read cgdoctor makes goes through a Sysroot: `/` on a live host,
/// any directory laid out like `/proc` and `/sys/fs/cgroup` otherwise (a fixture, a snapshot, a
/// host's root mounted into a DaemonSet pod at `/host`). There are no other globals, caches of host
/// facts or test modes: a captured host replays through exactly the code that reads a live one.
public struct Sysroot: Sendable, Hashable, CustomStringConvertible {
    /// The directory that plays `/`.
    public var root: FilePath

    public init(_ root: FilePath = "/") { self.root = root }

    public static let live = Sysroot("/")

    public var isLive: Bool { root == "/" }

    public var description: String { root.string }

    /// The real path of a host path: `/proc/1/mountinfo` under root `/tmp/fixture` is
    /// `/tmp/fixture/proc/1/mountinfo`. Host paths are absolute; `..` cannot climb out of the root.
    public func realPath(_ hostPath: FilePath) -> FilePath {
        if isLive { return hostPath }
        var relative = hostPath
        relative.root = nil
        return root.lexicallyResolving(relative) ?? root
    }

    /// Reads a whole file with read(2) until EOF into `buffer` (reused across calls).
    public func read(_ hostPath: FilePath, into buffer: inout ReadBuffer) throws(SystemError) {
        do {
            try Platform.readAll(realPath(hostPath).string, into: &buffer)
        } catch {
            throw relabel(error, hostPath)
        }
    }

    /// Reads a whole file.
    public func read(_ hostPath: FilePath) throws(SystemError) -> [UInt8] {
        var buffer = ReadBuffer()
        try read(hostPath, into: &buffer)
        return buffer.bytes
    }

    /// The target of a symbolic link (`/proc/<pid>/ns/mnt` reads `mnt:[4026531841]`).
    public func readLink(_ hostPath: FilePath) throws(SystemError) -> String {
        do {
            return try Platform.readLink(realPath(hostPath).string)
        } catch {
            throw relabel(error, hostPath)
        }
    }

    /// The process IDs under /proc, in readdir order.
    public func processIDs() throws(SystemError) -> [Int32] {
        do {
            return try Platform.listProcessIDs(realPath("/proc").string)
        } catch {
            throw relabel(error, "/proc")
        }
    }

    public func listDirectory(_ hostPath: FilePath) throws(SystemError) -> [String] {
        do {
            return try Platform.listDirectory(realPath(hostPath).string)
        } catch {
            throw relabel(error, hostPath)
        }
    }

    /// Counts directories below `hostPath`, up to `limit`.
    public func countSubdirectories(_ hostPath: FilePath, limit: Int = 1_000_000) throws(SystemError) -> Int {
        do {
            return try Platform.countSubdirectories(realPath(hostPath).string, limit: limit)
        } catch {
            throw relabel(error, hostPath)
        }
    }

    /// statfs(2) f_type. Live hosts only: a capture cannot answer it, which is why the cgroup
    /// mode is decided from mountinfo instead.
    public func fileSystemType(_ hostPath: FilePath) throws(SystemError) -> Int64 {
        do {
            return try Platform.fileSystemType(realPath(hostPath).string)
        } catch {
            throw relabel(error, hostPath)
        }
    }

    /// Errors name the host path (`/proc/42/cgroup`), and the real path when it differs.
    private func relabel(_ error: SystemError, _ hostPath: FilePath) -> SystemError {
        var error = error
        error.path = isLive ? hostPath.string : "\(hostPath.string) (under \(root.string))"
        return error
    }
}
