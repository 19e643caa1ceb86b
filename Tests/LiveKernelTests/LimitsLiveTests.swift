#if os(Linux)
import Foundation
import Glibc
import Testing

/// `cgdoctor limits` against the real kernel.
///
/// v1: real child cgroups `cgdoctor-test-limits-<hex>` (and `/child`) in this host's cpu and cpuset
/// hierarchies carry a CFS quota and a restricted cpuset; a `sleep` is moved into them. Moving a
/// task between cpu/cpuset cgroups changes only those hierarchies: it never leaves its memory
/// cgroup, which the machine uses. Nothing existing is written to: only our own children.
///
/// v2: this host's cgroup2 has no controllers, so a v2 memory/cpu/pids layout is staged inside
/// `unshare -m --propagation private`: a tmpfs over /sys/fs/cgroup with crafted interface files,
/// and crafted `/proc/<pid>/cgroup` and `/proc/<pid>/mountinfo` bind-mounted over a sleeper's. cgdoctor
/// runs inside that namespace with `--runtime-pid` the sleeper. The kernel enforces none of those
/// numbers (tmpfs files); the test proves the reading and the walk, the fixtures pin the rest.
@Suite(
    "Live limits (root; stages cgdoctor-test-limits-* cgroups)", .serialized,
    .enabled(if: Live.runnable, "needs root to create cgroups (set CI=true to fail instead of skipping)"))
struct LimitsLiveTests {
    static func write(_ text: String, to file: String) throws {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StagingError("open(\(file))", errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw StagingError("write(\(file), \"\(text)\")", errno) }
    }

    static func makeDirectory(_ path: String, _ created: inout [String]) throws {
        guard mkdir(path, 0o755) == 0 else { throw StagingError("mkdir(\(path))", errno) }
        created.append(path)
    }

    /// rmdir deepest first, retrying: a killed task leaves its cgroup asynchronously (EBUSY).
    static func removeCgroups(_ created: [String]) -> [String] {
        var failures: [String] = []
        for directory in created.reversed() {
            let deadline = Date().addingTimeInterval(5)
            while rmdir(directory) != 0 {
                let code = errno
                if code == ENOENT { break }
                if Date() > deadline {
                    failures.append("rmdir(\(directory)): \(String(cString: strerror(code)))")
                    break
                }
                usleep(20_000)
            }
        }
        return failures
    }

    static func limitsJSON(_ arguments: [String]) throws -> [String: Any] {
        let run = try Live.startCgdoctor(["limits"] + arguments + ["--format", "json"]).finish(timeout: 20)
        try #require(run.status == 0, "\(run)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run)")
    }

    static func dig(_ object: Any?, _ keys: String...) -> Any? {
        var current = object
        for key in keys {
            if let index = Int(key), let array = current as? [Any] {
                current = index < array.count ? array[index] : nil
            } else {
                current = (current as? [String: Any])?[key]
            }
        }
        return current
    }

    @Test func v1QuotaAndCpusetBindWhereTheyAreSet() throws {
        try Live.exclusive {
            let name = "cgdoctor-test-limits-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let cpu = "/sys/fs/cgroup/cpu/\(name)"
            let cpuset = "/sys/fs/cgroup/cpuset/\(name)"
            var created: [String] = []
            var sleeper: Spawned?
            defer {
                sleeper?.terminate()
                let failures = Self.removeCgroups(created)
                #expect(failures.isEmpty, "cleanup: \(failures)")
            }
            try Self.makeDirectory(cpu, &created)
            try Self.makeDirectory("\(cpu)/child", &created)
            try Self.write("150000", to: "\(cpu)/cpu.cfs_quota_us")
            // A v1 cpuset child starts with empty cpus/mems: copy the parent's before moving a task in.
            let rootCPUs = try #require(Live.read("/sys/fs/cgroup/cpuset/cpuset.cpus")).trimmingCharacters(in: .whitespacesAndNewlines)
            let rootMems = try #require(Live.read("/sys/fs/cgroup/cpuset/cpuset.mems")).trimmingCharacters(in: .whitespacesAndNewlines)
            try Self.makeDirectory(cpuset, &created)
            try Self.write(rootCPUs, to: "\(cpuset)/cpuset.cpus")
            try Self.write(rootMems, to: "\(cpuset)/cpuset.mems")
            try Self.makeDirectory("\(cpuset)/child", &created)
            let lastCPU = rootCPUs.split(separator: ",").last.flatMap { $0.split(separator: "-").last }.map(String.init) ?? "0"
            try Self.write(lastCPU, to: "\(cpuset)/child/cpuset.cpus")
            try Self.write(rootMems, to: "\(cpuset)/child/cpuset.mems")

            let sleep = try Spawned(try Live.tool("/bin/sleep", "/usr/bin/sleep"), ["300"])
            sleeper = sleep
            let memoryBefore = Live.read("/proc/\(sleep.pid)/cgroup")?.split(separator: "\n").first { $0.contains(":memory:") }
            try StagedHierarchy.writePID(sleep.pid, to: "\(cpu)/child/cgroup.procs")
            try StagedHierarchy.writePID(sleep.pid, to: "\(cpuset)/child/cgroup.procs")
            let memoryAfter = Live.read("/proc/\(sleep.pid)/cgroup")?.split(separator: "\n").first { $0.contains(":memory:") }
            #expect(memoryBefore == memoryAfter, "the sleeper must stay in its memory cgroup")

            // Quota on the parent only: the parent binds at 1.5 CPUs.
            var json = try Self.limitsJSON(["\(sleep.pid)"])
            let cpuWalk = Self.dig(json, "resources", "cpu")
            #expect(Self.dig(cpuWalk, "levels", "0", "cgroupPath") as? String == "/\(name)/child")
            #expect(Self.dig(cpuWalk, "levels", "0", "state") as? String == "unlimited")
            #expect(Self.dig(cpuWalk, "levels", "1", "cgroupPath") as? String == "/\(name)")
            #expect(Self.dig(cpuWalk, "levels", "1", "quotaMicros") as? Int == 150000)
            #expect(Self.dig(cpuWalk, "levels", "1", "periodMicros") as? Int == 100000)
            #expect(Self.dig(cpuWalk, "binding") as? Int == 1)
            #expect(Self.dig(cpuWalk, "levels", "1", "files", "0") as? String == "\(cpu)/cpu.cfs_quota_us")
            #expect(Self.dig(json, "effective", "cpu", "quota", "cores") as? Double == 1.5)
            #expect(Self.dig(json, "effective", "cpu", "quota", "roundedUp") as? Int == 2)
            // The cpuset child holds one CPU; the kernel narrowed the affinity with it.
            #expect(Self.dig(json, "effective", "cpu", "cpuset", "cpus") as? String == lastCPU)
            #expect(Self.dig(json, "effective", "cpu", "affinity", "cpus") as? String == lastCPU)
            #expect(Self.dig(json, "effective", "cpu", "cpus") as? Int == 1)
            #expect(Self.dig(json, "resources", "cpuset", "binding") as? Int == 0)
            #expect(Self.dig(json, "resources", "cpuset", "levels", "0", "files", "0") as? String == "\(cpuset)/child/cpuset.effective_cpus")

            // A tighter quota on the child: now the child binds.
            try Self.write("50000", to: "\(cpu)/child/cpu.cfs_quota_us")
            json = try Self.limitsJSON(["\(sleep.pid)"])
            #expect(Self.dig(json, "resources", "cpu", "binding") as? Int == 0)
            #expect(Self.dig(json, "effective", "cpu", "quota", "cores") as? Double == 0.5)
            #expect(Self.dig(json, "effective", "cpu", "quota", "file") as? String == "\(cpu)/child/cpu.cfs_quota_us")
            // The memory cgroup is the machine's own, unlimited or not: whatever it is, it is a state, not a magic number.
            let memoryState = Self.dig(json, "effective", "memory", "state") as? String
            #expect(memoryState == "limited" || memoryState == "unlimited")
            if memoryState == "limited" {
                #expect((Self.dig(json, "effective", "memory", "bytes") as? Int ?? Int.max) < 9_223_372_036_854_710_272)
            }
        }
    }

    @Test func v2LayoutStagedInAPrivateMountNamespace() throws {
        try Live.exclusive {
            let directory = "/tmp/cgdoctor-test-limits-v2-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            guard mkdir(directory, 0o700) == 0 else { throw StagingError("mkdir(\(directory))", errno) }
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try "0::/app/worker\n".write(toFile: "\(directory)/cgroup", atomically: false, encoding: .utf8)
            try """
                25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
                31 25 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate

                """.write(toFile: "\(directory)/mountinfo", atomically: false, encoding: .utf8)
            // Parent binds memory (128 MiB under the leaf's 1 GiB); the leaf binds CPU (0.5 under max).
            let files: [(String, String)] = [
                ("cpuset.cpus.effective", "0-1"),
                ("app/cpu.max", "max 100000"), ("app/memory.max", "134217728"), ("app/memory.high", "100663296"),
                ("app/pids.max", "64"), ("app/cpuset.cpus.effective", "0-1"),
                ("app/worker/cpu.max", "50000 100000"), ("app/worker/memory.max", "1073741824"), ("app/worker/memory.high", "max"),
                ("app/worker/pids.max", "max"), ("app/worker/cpuset.cpus.effective", "0-1"),
            ]
            let binary = try Live.cgdoctorBinary()
            var script = "set -e\nmount -t tmpfs cgdoctor-test-tmpfs /sys/fs/cgroup\nmkdir -p /sys/fs/cgroup/app/worker\n"
            for (path, value) in files { script += "echo '\(value)' > /sys/fs/cgroup/\(path)\n" }
            script += """
                sleep 300 &
                spid=$!
                trap 'kill -9 $spid 2>/dev/null || true' EXIT
                mount --bind \(directory)/cgroup /proc/$spid/cgroup
                mount --bind \(directory)/mountinfo /proc/$spid/mountinfo
                \(binary) limits $spid --runtime-pid $spid --format json > \(directory)/out.json
                echo $spid > \(directory)/pid
                kill -9 $spid
                wait $spid || true

                """
            let unshare = try Live.tool("/usr/bin/unshare", "/bin/unshare")
            let run = try Spawned(unshare, ["-m", "--propagation", "private", "/bin/sh", "-c", script]).finish(timeout: 20)
            try #require(run.status == 0, "\(run)")
            let output = try #require(FileManager.default.contents(atPath: "\(directory)/out.json"))
            let json = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
            let memory = Self.dig(json, "resources", "memory")
            #expect(Self.dig(memory, "version") as? Int == 2)
            #expect(Self.dig(memory, "binding") as? Int == 1)
            #expect((Self.dig(memory, "levels") as? [[String: Any]])?.map { $0["cgroupPath"] as? String } == ["/app/worker", "/app", "/"])
            #expect(Self.dig(memory, "levels", "2", "state") as? String == "missing")
            #expect(Self.dig(json, "effective", "memory", "bytes") as? Int == 134_217_728)
            #expect(Self.dig(json, "effective", "memory", "file") as? String == "/sys/fs/cgroup/app/memory.max")
            #expect(Self.dig(json, "effective", "memoryHigh", "bytes") as? Int == 100_663_296)
            #expect(Self.dig(json, "resources", "cpu", "binding") as? Int == 0)
            #expect(Self.dig(json, "effective", "cpu", "quota", "cores") as? Double == 0.5)
            #expect(Self.dig(json, "effective", "pids", "max") as? Int == 64)
            #expect(Self.dig(json, "hierarchicalMemoryLimit") is NSNull)
            // The namespace died with its last process: nothing of it is left in ours.
            let pid = (try? String(contentsOfFile: "\(directory)/pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if let pid { #expect(Live.read("/proc/\(pid)/cgroup") == nil, "sleeper \(pid) survived") }
            #expect(!(Live.read("/proc/self/mountinfo") ?? "").contains("cgdoctor-test"))
        }
    }
}
#endif
