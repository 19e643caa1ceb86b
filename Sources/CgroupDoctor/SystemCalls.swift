// Every syscall cgdoctor makes lives in this file, each behind one function with EINTR retry.
// The rest of the domain compiles anywhere and never touches errno.
import CSystemShims
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An I/O failure: which path, which syscall, which errno.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var syscall: String
    public var errno: Int32

    public init(path: String, syscall: String, errno: Int32) {
        self.path = path
        self.syscall = syscall
        self.errno = errno
    }

    /// ENOENT or ESRCH on a /proc/<pid> file: the process exited. Not a failure.
    public var isNotFound: Bool { errno == ENOENT || errno == ESRCH }

    /// EINVAL: for /proc/<pid>/mountinfo, the task exited or lost its mount namespace.
    public var isInvalidArgument: Bool { errno == EINVAL }

    public var errnoName: String {
        switch errno {
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case EBUSY: "EBUSY"
        case EINVAL: "EINVAL"
        case ENOTDIR: "ENOTDIR"
        case EIO: "EIO"
        case EEXIST: "EEXIST"
        case ENOSPC: "ENOSPC"
        case EISDIR: "EISDIR"
        case ENOTEMPTY: "ENOTEMPTY"
        case ENXIO: "ENXIO"
        case EROFS: "EROFS"
        default: "errno \(errno)"
        }
    }

    public var description: String {
        "\(syscall)(\(path)): \(String(cString: strerror(errno))) (\(errnoName))"
    }
}

/// A reusable read buffer: storage grows (doubling) and is never cleared, so a scan of 10,000
/// files allocates and zeroes memory a handful of times, not once per file.
public struct ReadBuffer: Sendable {
    var storage: [UInt8] = []
    /// Bytes of the last file read.
    public internal(set) var count = 0

    public init() {}

    /// The bytes of the last file read.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
    }

    public var bytes: [UInt8] { Array(storage[0..<count]) }
}

/// Raw, retrying wrappers. Internal to the module: everything else goes through ``Sysroot``.
enum Platform {
    static func open(_ path: String, flags: Int32) throws(SystemError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw SystemError(path: path, syscall: "open", errno: errno)
        }
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Reads the whole file with read(2) until it returns 0. procfs files report st_size 0 and
    /// return one seq_file record per read, so a short read is not the end (Foundation's readers
    /// stop there and silently truncate mountinfo to ~4 KiB).
    static func readAll(_ path: String, into buffer: inout ReadBuffer) throws(SystemError) {
        let fd = try open(path, flags: O_RDONLY)
        defer { close(fd) }
        buffer.count = 0
        while true {
            if buffer.storage.count - buffer.count < 4096 {
                buffer.storage.append(contentsOf: repeatElement(0, count: max(buffer.storage.count, 64 * 1024)))
            }
            let used = buffer.count
            var failure: Int32 = 0
            let got: Int = buffer.storage.withUnsafeMutableBufferPointer { storage in
                while true {
                    let n = Glibc.read(fd, storage.baseAddress! + used, storage.count - used)
                    if n >= 0 { return n }
                    if errno == EINTR { continue }
                    failure = errno
                    return 0
                }
            }
            if failure != 0 { throw SystemError(path: path, syscall: "read", errno: failure) }
            if got == 0 { return }
            buffer.count += got
        }
    }

    static func readLink(_ path: String) throws(SystemError) -> String {
        // A stack buffer: this runs once per process in a node scan (/proc/<pid>/ns/mnt).
        var failure: Int32 = 0
        let target: String? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { scratch in
            while true {
                let n = Glibc.readlink(path, scratch.baseAddress!, scratch.count)
                if n >= 0 {
                    return scratch.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: n) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
                    }
                }
                if errno == EINTR { continue }
                failure = errno
                return nil
            }
        }
        guard let target else { throw SystemError(path: path, syscall: "readlink", errno: failure) }
        return target
    }

    /// Names in a directory (without `.` and `..`), in readdir order.
    static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else {
            throw SystemError(path: path, syscall: "opendir", errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 && errno != EINTR { throw SystemError(path: path, syscall: "readdir", errno: errno) }
                break
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    /// Numeric entries of a /proc-like directory, read straight from readdir without building
    /// Strings for the thousands of non-numeric names.
    static func listProcessIDs(_ path: String) throws(SystemError) -> [Int32] {
        guard let dir = opendir(path) else {
            throw SystemError(path: path, syscall: "opendir", errno: errno)
        }
        defer { closedir(dir) }
        var pids: [Int32] = []
        pids.reserveCapacity(512)
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 && errno != EINTR { throw SystemError(path: path, syscall: "readdir", errno: errno) }
                break
            }
            let pid: Int32? = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) { name -> Int32? in
                    var value: Int32 = 0
                    var index = 0
                    while name[index] != 0 {
                        let digit = name[index]
                        guard digit >= 0x30 && digit <= 0x39, index < 10 else { return nil }
                        value = value &* 10 &+ Int32(digit - 0x30)
                        index += 1
                    }
                    return index == 0 ? nil : value
                }
            }
            if let pid { pids.append(pid) }
        }
        return pids
    }

    /// Counts the directories below `path` (not `path` itself), without following symlinks.
    /// Used to count live cgroups of a hierarchy; stops at `limit` to bound the cost.
    static func countSubdirectories(_ path: String, limit: Int) throws(SystemError) -> Int {
        var count = 0
        var pending = [path]
        while let directory = pending.popLast() {
            guard let dir = opendir(directory) else {
                if directory == path { throw SystemError(path: path, syscall: "opendir", errno: errno) }
                continue  // removed while walking: a cgroup that just died
            }
            while let entry = readdir(dir) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                count += 1
                if count >= limit {
                    closedir(dir)
                    return count
                }
                pending.append(directory + "/" + name)
            }
            closedir(dir)
        }
        return count
    }

    /// statfs(2) f_type, through the C shim (Glibc does not export statfs to Swift).
    static func fileSystemType(_ path: String) throws(SystemError) -> Int64 {
        var type: Int64 = 0
        while true {
            if cgdoctor_statfs_type(path, &type) == 0 { return type }
            if errno == EINTR { continue }
            throw SystemError(path: path, syscall: "statfs", errno: errno)
        }
    }
}
