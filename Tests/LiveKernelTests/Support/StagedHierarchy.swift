#if os(Linux)
import Foundation
import Glibc
import Testing

/// A named cgroup v1 hierarchy this test run created, `cgdoctor-test-<random>`, with no
/// controllers (`-o none,name=…`), so nothing the machine uses is touched. It owns its mount point
/// (`/tmp/cgdoctor-test-<random>`) and every process it spawns; ``destroy()`` removes all of it.
///
/// Kernel behaviour relied on (research/runtime-anchors.md §4): `umount` of a v1 hierarchy that
/// still has child cgroups only hides it (`cgroup_kill_sb()` kills a root without children only);
/// `mount -o name=X` re-attaches an existing hierarchy and fails with EINVAL when none exists
/// (`cgroup1_root_to_use()`: a new hierarchy needs a subsystem list or `none`), so retry mounts by
/// name can never create a new one.
final class StagedHierarchy {
    let name: String
    let mountPoint: String
    private(set) var sleepers: [Spawned] = []
    /// Processes holding mounts in other mount namespaces (killed before destruction).
    private(set) var holders: [Spawned] = []

    init() throws {
        // [\w.-]+ and at most 64 bytes (cgroup1_parse_param): the hex suffix keeps both.
        name = "cgdoctor-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        mountPoint = "/tmp/\(name)"
        guard mkdir(mountPoint, 0o700) == 0 else {
            throw StagingError("mkdir(\(mountPoint))", errno)
        }
    }

    /// `mount -t cgroup -o none,name=X` (creating) or `-o name=X` (re-attaching only).
    func mount(creating: Bool) throws {
        let options = creating ? "none,name=\(name)" : "name=\(name)"
        guard Glibc.mount("cgroup", mountPoint, "cgroup", 0, options) == 0 else {
            throw StagingError("mount -t cgroup -o \(options) cgroup \(mountPoint)", errno)
        }
    }

    func unmount() throws {
        guard umount2(mountPoint, 0) == 0 else { throw StagingError("umount(\(mountPoint))", errno) }
    }

    func makeChild(_ relative: String) throws {
        let path = "\(mountPoint)/\(relative)"
        guard mkdir(path, 0o755) == 0 else { throw StagingError("mkdir(\(path))", errno) }
    }

    /// Starts `/bin/sleep` and moves it into `child` (relative to the hierarchy's root), which must
    /// be mounted here. Returns its pid.
    @discardableResult
    func spawnSleeper(into child: String) throws -> Int32 {
        let sleeper = try Spawned(try Live.tool("/bin/sleep", "/usr/bin/sleep"), ["300"])
        sleepers.append(sleeper)
        try Self.writePID(sleeper.pid, to: "\(mountPoint)/\(child)/cgroup.procs")
        return sleeper.pid
    }

    /// Keeps the hierarchy mounted at ``mountPoint`` inside a new private mount namespace held by a
    /// live process (`unshare -m --propagation private`), while the host namespace may have
    /// unmounted it. Returns the holder's pid once its mountinfo shows the mount.
    func holdMountInPrivateNamespace() throws -> Int32 {
        let unshare = try Live.tool("/usr/bin/unshare", "/bin/unshare")
        let script = "mount -t cgroup -o name=\(name) cgroup \(mountPoint) && exec sleep 300"
        let holder = try Spawned(unshare, ["-m", "--propagation", "private", "/bin/sh", "-c", script])
        holders.append(holder)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let mounts = Live.read("/proc/\(holder.pid)/mountinfo"), Self.mountLine(in: mounts, name: name, at: mountPoint) != nil,
                Live.commandName(holder.pid) == "sleep"
            {
                return holder.pid
            }
            if !holder.isRunning { break }
            usleep(10_000)
        }
        let result = holder.isRunning ? "still starting" : "\(holder.finish(timeout: 1))"
        throw StagingError("`\(holder.command)` did not mount \(name) within 5 s: \(result)", 0)
    }

    // MARK: Observing

    /// The `/proc/<pid>/cgroup` line of this hierarchy (`12:name=cgdoctor-test-…:/child`) split
    /// into id and path, read without cgdoctor's parser so the tests have an independent oracle.
    func line(of pid: String) -> (id: Int, path: String)? {
        guard let text = Live.read("/proc/\(pid)/cgroup") else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[1].split(separator: ",").contains("name=\(name)"[...]),
                let id = Int(fields[0])
            else { continue }
            return (id, String(fields[2]))
        }
        return nil
    }

    /// Whether the kernel still has the hierarchy (it is listed in every process's cgroup file).
    var isListed: Bool { line(of: "self") != nil }

    /// Whether it is mounted at ``mountPoint`` in this test's mount namespace.
    var isMountedHere: Bool {
        Live.read("/proc/self/mountinfo").map { Self.mountLine(in: $0, name: name, at: mountPoint) != nil } ?? false
    }

    /// The mountinfo line mounting hierarchy `name` at `mountPoint` (field 5 is the mount point; the
    /// super options follow ` - cgroup <source> `). Paths here contain no characters that need escaping.
    static func mountLine(in mountinfo: String, name: String, at mountPoint: String) -> Substring? {
        mountinfo.split(separator: "\n").first { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == mountPoint, let dash = fields.firstIndex(of: "-"),
                fields.index(after: dash) < fields.endIndex, fields[fields.index(after: dash)] == "cgroup",
                let superOptions = fields.last
            else { return false }
            return superOptions.split(separator: ",").contains("name=\(name)"[...])
        }
    }

    // MARK: Destruction

    /// Kills every spawned process, then destroys the hierarchy (research §4.6): re-attach by name,
    /// move every task to the root, remove child cgroups deepest first, unmount, and repeat until
    /// `/proc/self/cgroup` no longer lists it — destruction is asynchronous, and a child still dying
    /// at umount time (or a mount another namespace has not released yet) keeps the root alive.
    /// Never throws: returns what could not be cleaned, so a failed expectation still cleans up.
    func destroy(timeout: TimeInterval = 8) -> [String] {
        for process in holders + sleepers { process.terminate() }
        var failures: [String] = []
        var lastError: String?
        let deadline = Date().addingTimeInterval(timeout)
        while isListed || isMountedHere {
            if Date() > deadline {
                failures.append("hierarchy \(name) still \(isListed ? "listed in /proc/self/cgroup" : "mounted at \(mountPoint)") after \(timeout) s (last error: \(lastError ?? "none"))")
                break
            }
            if !isMountedHere {
                do { try mount(creating: false) } catch {
                    // EINVAL: it died between the check and the mount. Anything else: retry.
                    lastError = "\(error)"
                    usleep(50_000)
                    continue
                }
            }
            // Only touch the tree when the mount at mountPoint is ours (just verified or made).
            if isMountedHere {
                let children = childCgroups()
                for child in children {
                    for pid in (Live.read("\(child)/cgroup.procs") ?? "").split(separator: "\n") {
                        // ESRCH: exited meanwhile. Kernel threads cannot be moved but are never here.
                        if let pid = Int32(pid) { try? Self.writePID(pid, to: "\(mountPoint)/cgroup.procs") }
                    }
                }
                for child in children where rmdir(child) != 0 {
                    lastError = "rmdir(\(child)): \(String(cString: strerror(errno)))"
                }
                if umount2(mountPoint, 0) != 0 { lastError = "umount(\(mountPoint)): \(String(cString: strerror(errno)))" }
            }
            // Give dying children a moment before the next attempt.
            if isListed { usleep(50_000) }
        }
        if rmdir(mountPoint) != 0 && errno != ENOENT {
            failures.append("rmdir(\(mountPoint)): \(String(cString: strerror(errno)))")
        }
        return failures
    }

    /// Child cgroup directories below the mount point, deepest first.
    private func childCgroups() -> [String] {
        var found: [String] = []
        func walk(_ directory: String) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for entry in entries {
                let path = "\(directory)/\(entry)"
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    walk(path)
                    found.append(path)
                }
            }
        }
        walk(mountPoint)
        return found
    }

    /// One pid per write(2), as cgroup.procs requires. Never with Foundation's atomic writes
    /// (temp file + rename cannot work in cgroupfs).
    static func writePID(_ pid: Int32, to file: String) throws {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StagingError("open(\(file))", errno) }
        defer { close(fd) }
        let bytes = Array("\(pid)\n".utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw StagingError("write(\(file), \"\(pid)\")", errno) }
    }
}

struct StagingError: Error, CustomStringConvertible {
    var description: String
    init(_ what: String, _ code: Int32) {
        description = code == 0 ? what : "\(what): \(String(cString: strerror(code))) (errno \(code))"
    }
}
#endif
