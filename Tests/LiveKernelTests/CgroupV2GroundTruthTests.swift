#if os(Linux)
import CgroupDoctor
import Foundation
import Glibc
import Testing

/// Ground truth for cgroup v2 leaf/parent limits (issue 5 item 3) and for HotSpot/Java-side memory:
/// the real `java` 17, a Rust program calling `available_parallelism`, `node` 20 and a Go program
/// importing Debian's automaxprocs 1.4 run in a cgroup v2 layout, and what cgdoctor predicts for a
/// `sleep` staged in the same layout (library, `cgdoctor explain --format json`, `cgdoctor limits`)
/// must equal what they print.
///
/// This host is v1 hybrid and its cgroup2 has no controllers, so the v2 layout is staged inside
/// `unshare -m --propagation private`: a tmpfs over /sys/fs/cgroup holds a crafted cgroup2-looking
/// tree (cgroup.controllers, cgroup.subtree_control, cpu.max, memory.max, memory.high,
/// cpuset.cpus.effective, pids.max at the parent and the leaf), /proc/cgroups is replaced by a
/// v2-style table (hierarchy 0 for every controller), and every staged process bind-mounts a crafted
/// `0::/parent/leaf` over its own /proc/<pid>/cgroup and a mountinfo whose cgroup lines are replaced
/// by one `cgroup2` mount at /sys/fs/cgroup over its own /proc/<pid>/mountinfo, then execs the
/// consumer (same pid, so `/proc/self/...` is the crafted file). The kernel enforces none of those
/// numbers: the test proves what each runtime reads and computes, which is what the models predict.
///
/// What cannot be staged this way: consumers that decide v1/v2 by `statfs("/sys/fs/cgroup")` (JDK 25
/// JDK-8349988, .NET, runc/containerd `cgroups.Mode()`, systemd) see TMPFS_MAGIC and take their v1
/// path; none of them is among the binaries run here, and cgdoctor's models decide "statfs" from the
/// process's mountinfo (``HostFacts/sysFsCgroupIsCgroup2``), so for them this layout is the v2 host
/// they would see on a real v2 machine, not what a real binary would see in this namespace.
///
/// Lifetime: one namespace per test, held by the staged `sleep`; the consumers join it with
/// `nsenter -m`. When the sleep is killed (defer) and the consumers have exited, the namespace and
/// every mount in it vanish; nothing is created in the host's cgroup hierarchies.
@Suite(.serialized, .enabled(if: Live.runnable, "needs root: private mount namespaces and bind mounts over /proc"))
struct CgroupV2GroundTruthTests {
    // MARK: Layout

    /// A crafted v2 tree: the files written under the tmpfs, relative to /sys/fs/cgroup.
    struct V2Layout {
        var name: String
        var files: [(String, String)]
        /// `taskset -c` list every staged process runs under (what a real v2 cpuset would do to the
        /// affinity), or nil for the inherited mask.
        var affinity: String? = nil

        /// The defaults every level carries; `overrides` replace them by path.
        init(_ name: String, affinity: String? = nil, _ overrides: [String: String]) {
            self.name = name
            self.affinity = affinity
            var files: [(String, String)] = [
                ("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc"),
                ("cgroup.subtree_control", "cpuset cpu io memory pids"),
                ("cpuset.cpus.effective", "0-1"), ("cpuset.mems.effective", "0"),
                ("parent/cgroup.controllers", "cpuset cpu io memory pids"),
                ("parent/cgroup.subtree_control", "cpuset cpu memory pids"),
                ("parent/leaf/cgroup.controllers", "cpuset cpu memory pids"),
                ("parent/leaf/cgroup.subtree_control", ""),
            ]
            for level in ["parent", "parent/leaf"] {
                files += [
                    ("\(level)/cpu.max", "max 100000"), ("\(level)/cpu.weight", "100"), ("\(level)/memory.max", "max"),
                    ("\(level)/memory.high", "max"), ("\(level)/memory.low", "0"), ("\(level)/memory.current", "1000000"),
                    ("\(level)/memory.swap.max", "max"), ("\(level)/pids.max", "max"), ("\(level)/pids.current", "1"),
                    ("\(level)/cpuset.cpus", ""), ("\(level)/cpuset.cpus.effective", "0-1"),
                    ("\(level)/cpuset.mems.effective", "0"),
                ]
            }
            for (index, file) in files.enumerated() {
                if let value = overrides[file.0] { files[index].1 = value }
            }
            for (path, value) in overrides where !files.contains(where: { $0.0 == path }) { files.append((path, value)) }
            self.files = files
        }
    }

    /// What a staged namespace is made of: a tmpfs tree at `tmpfsAt`, the crafted /proc/<pid>/cgroup
    /// and /proc/<pid>/mountinfo every staged process binds over its own, and optionally a crafted
    /// /proc/cgroups for the whole namespace.
    struct Setup {
        var tmpfsAt: String
        /// Files under `tmpfsAt` (directories are created for them).
        var files: [(String, String)]
        var cgroup: String
        var mountInfo: String
        var procCgroups: String?
        var affinity: String?

        static func v2(_ layout: V2Layout) throws -> Setup {
            Setup(
                tmpfsAt: "/sys/fs/cgroup", files: layout.files, cgroup: "0::/parent/leaf\n",
                mountInfo: try Staging.craftedMountInfo(), procCgroups: try Staging.craftedProcCgroups(), affinity: layout.affinity)
        }

        /// v1 memory without touching the machine's memory hierarchy: a tmpfs over
        /// /sys/fs/cgroup/memory holds `/cgdoctor-test-v1` and `/cgdoctor-test-v1/leaf`, and the crafted
        /// /proc/<pid>/cgroup is this process's own with the memory line pointing at the leaf. The
        /// mountinfo is this process's own, unchanged (the real memory mount, root "/"), so HotSpot,
        /// the Java side and cgdoctor resolve the crafted directories through the real mount table.
        static func v1Memory(leaf: UInt64, parent: UInt64, hierarchical: UInt64) throws -> Setup {
            let unlimited = "9223372036854771712"
            func level(_ path: String, limit: String, hierarchical: String) -> [(String, String)] {
                let prefix = path.isEmpty ? "" : path + "/"
                return [
                    ("\(prefix)memory.limit_in_bytes", limit), ("\(prefix)memory.soft_limit_in_bytes", unlimited),
                    ("\(prefix)memory.memsw.limit_in_bytes", unlimited), ("\(prefix)memory.use_hierarchy", "1"),
                    ("\(prefix)memory.usage_in_bytes", "1000000"), ("\(prefix)memory.max_usage_in_bytes", "1000000"),
                    ("\(prefix)memory.swappiness", "60"),
                    ("\(prefix)memory.stat", "cache 0\nrss 1000000\nhierarchical_memory_limit \(hierarchical)\nhierarchical_memsw_limit \(unlimited)"),
                ]
            }
            let files =
                level("", limit: unlimited, hierarchical: unlimited)
                + level("cgdoctor-test-v1", limit: String(parent), hierarchical: String(min(parent, UInt64(unlimited)!)))
                + level("cgdoctor-test-v1/leaf", limit: String(leaf), hierarchical: String(hierarchical))
            let real = try #require(Live.read("/proc/self/cgroup"))
            var cgroup = ""
            var replaced = false
            for line in real.split(separator: "\n") {
                let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                if fields.count == 3, fields[1].split(separator: ",").contains("memory") {
                    cgroup += "\(fields[0]):\(fields[1]):/cgdoctor-test-v1/leaf\n"
                    replaced = true
                } else {
                    cgroup += line + "\n"
                }
            }
            try #require(replaced, "no memory line in /proc/self/cgroup: \(real)")
            return Setup(
                tmpfsAt: "/sys/fs/cgroup/memory", files: files, cgroup: cgroup,
                mountInfo: try #require(Live.read("/proc/self/mountinfo")), procCgroups: nil, affinity: nil)
        }
    }

    /// The staging directory on the host: crafted /proc files and the two scripts.
    struct Staging {
        var directory: String

        static func make(_ layout: V2Layout) throws -> Staging { try make(Setup.v2(layout)) }

        static func make(_ setup: Setup) throws -> Staging {
            let directory = "/tmp/cgdoctor-test-v2gt-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            guard mkdir(directory, 0o700) == 0 else { throw StagingError("mkdir(\(directory))", errno) }
            let staging = Staging(directory: directory)
            do {
                try setup.cgroup.write(toFile: "\(directory)/cgroup", atomically: false, encoding: .utf8)
                try setup.mountInfo.write(toFile: "\(directory)/mountinfo", atomically: false, encoding: .utf8)
                var tree = "set -e\nmount -t tmpfs cgdoctor-test-v2gt \(setup.tmpfsAt)\n"
                let directories = Set(setup.files.map { ($0.0 as NSString).deletingLastPathComponent }.filter { !$0.isEmpty })
                for sub in directories.sorted() { tree += "mkdir -p \(setup.tmpfsAt)/\(sub)\n" }
                for (path, value) in setup.files { tree += "printf '%s\\n' '\(value)' > \(setup.tmpfsAt)/\(path)\n" }
                if let procCgroups = setup.procCgroups {
                    try procCgroups.write(toFile: "\(directory)/cgroups", atomically: false, encoding: .utf8)
                    tree += "mount --bind \(directory)/cgroups /proc/cgroups\n"
                }
                // Every process that runs a consumer binds the crafted files over its OWN /proc entries and
                // execs (same pid): `/proc/self/cgroup` is then the crafted file.
                let taskset = setup.affinity.map { "taskset -c \($0) " } ?? ""
                let enter = """
                    set -e
                    mount --bind \(directory)/cgroup /proc/$$/cgroup
                    mount --bind \(directory)/mountinfo /proc/$$/mountinfo
                    exec \(taskset)"$@"

                    """
                try (tree + "exec /bin/sh \(directory)/enter.sh /bin/sleep 60\n").write(
                    toFile: "\(directory)/stage.sh", atomically: false, encoding: .utf8)
                try enter.write(toFile: "\(directory)/enter.sh", atomically: false, encoding: .utf8)
            } catch {
                staging.remove()
                throw error
            }
            return staging
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }

        /// This process's mountinfo with every cgroup line (and the tmpfs at /sys/fs/cgroup) replaced by
        /// one cgroup2 mount at /sys/fs/cgroup: what a v2 host's process sees. The other lines (/, /proc,
        /// /dev ...) are the real ones, so the runtimes find everything else where it is.
        static func craftedMountInfo() throws -> String {
            let real = try #require(Live.read("/proc/self/mountinfo"))
            var lines: [String] = []
            var parentID = "1"
            for line in real.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields.count > 4 else { continue }
                let type = fields[dash + 1]
                let mountPoint = fields[4]
                if mountPoint == "/sys" { parentID = String(fields[0]) }
                if type == "cgroup" || type == "cgroup2" || mountPoint == "/sys/fs/cgroup" || mountPoint.hasPrefix("/sys/fs/cgroup/") {
                    continue
                }
                lines.append(String(line))
            }
            lines.append(
                "9931 \(parentID) 0:9931 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot")
            return lines.joined(separator: "\n") + "\n"
        }

        /// The real /proc/cgroups with every hierarchy id 0, as on a v2-only kernel.
        static func craftedProcCgroups() throws -> String {
            let real = try #require(Live.read("/proc/cgroups"))
            var out = ""
            for line in real.split(separator: "\n") {
                if line.hasPrefix("#") {
                    out += line + "\n"
                    continue
                }
                let fields = line.split(separator: "\t")
                guard fields.count == 4 else { continue }
                out += "\(fields[0])\t0\t1\t\(fields[3])\n"
            }
            return out
        }
    }

    /// The namespace: a staged `sleep` that holds it, the pid the prediction is made for.
    final class Namespace {
        let staging: Staging
        let sleeper: Spawned

        init(_ staging: Staging) throws {
            self.staging = staging
            let unshare = try Live.tool("/usr/bin/unshare", "/bin/unshare")
            sleeper = try Spawned(unshare, ["-m", "--propagation", "private", "/bin/sh", "\(staging.directory)/stage.sh"])
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline {
                if Live.commandName(sleeper.pid) == "sleep",
                    Live.read("/proc/\(sleeper.pid)/root/proc/\(sleeper.pid)/cgroup") == Live.read("\(staging.directory)/cgroup")
                {
                    return
                }
                if !sleeper.isRunning { break }
                usleep(10_000)
            }
            sleeper.terminate()
            throw StagingError("staged sleep did not start: \(sleeper.finish(timeout: 1))", 0)
        }

        var pid: Int32 { sleeper.pid }

        /// Runs `argv` in the namespace, as a process that bound the crafted files over its own /proc.
        func run(_ argv: [String], timeout: TimeInterval = 20) throws -> Finished {
            let nsenter = try Live.tool("/usr/bin/nsenter", "/bin/nsenter")
            return try Spawned(nsenter, ["-t", String(pid), "-m", "/bin/sh", "\(staging.directory)/enter.sh"] + argv)
                .finish(timeout: timeout)
        }

        /// Runs `argv` in the namespace without binding anything (cgdoctor itself).
        func runPlain(_ argv: [String], timeout: TimeInterval = 20) throws -> Finished {
            let nsenter = try Live.tool("/usr/bin/nsenter", "/bin/nsenter")
            return try Spawned(nsenter, ["-t", String(pid), "-m"] + argv).finish(timeout: timeout)
        }

        /// SIGKILL the sleep: the last process of the namespace, which then vanishes with its mounts.
        func close() { sleeper.terminate() }
    }

    // MARK: What the binaries print

    struct Observed {
        var javaText = ""
        /// HotSpot: the last `OSContainer::active_processor_count: N` trace line.
        var hotspotCPUs: Int?
        /// `Effective CPU Count:` of -XshowSettings:system (Runtime.availableProcessors()).
        var effectiveCPUs: Int?
        /// HotSpot's memory limit: the last `Memory Limit is:` trace line, unlimited when it reads
        /// `Unlimited`/-1 or when HotSpot logged `container memory limit ignored` (≥ physical memory).
        var hotspotMemory: MemoryView?
        var javaProvider: String?
        var javaQuota: Int64?
        var javaPeriod: Int64?
        /// The Java-side `Memory Limit:` line verbatim (`256.00M`, `Unlimited`).
        var javaMemory: String?
        var rustCPUs: Int?
        var nodeCPUs: Int?
        var nodeMemory: String?
        var goCPUs: Int?
        var goLog = ""
    }

    static func value(after marker: String, in text: String, last: Bool = false) -> String? {
        var found: String?
        for line in text.split(separator: "\n") {
            if let range = line.range(of: marker) {
                found = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                if !last { return found }
            }
        }
        return found
    }

    /// `java -Xlog:os+container=trace -XshowSettings:system -version`: HotSpot's trace and the Java side.
    static func observeJava(_ namespace: Namespace, _ observed: inout Observed) throws {
        let java = try namespace.run(["java", "-Xlog:os+container=trace", "-XshowSettings:system", "-version"])
        #expect(java.status == 0, "\(java)")
        let text = java.stdout + "\n" + java.stderr
        observed.javaText = text
        observed.hotspotCPUs = value(after: "OSContainer::active_processor_count: ", in: text, last: true).flatMap { Int($0) }
        observed.effectiveCPUs = value(after: "Effective CPU Count: ", in: text).flatMap { Int($0) }
        if let limit = value(after: "Memory Limit is: ", in: text, last: true) {
            if limit == "Unlimited" || limit == "-1" || text.contains("container memory limit ignored") {
                observed.hotspotMemory = .unlimited
            } else if let bytes = UInt64(limit) {
                observed.hotspotMemory = .bytes(bytes)
            }
        }
        observed.javaProvider = value(after: "Provider: ", in: text)
        observed.javaQuota = value(after: "CPU Quota: ", in: text).flatMap { Int64($0.replacingOccurrences(of: "us", with: "")) }
        observed.javaPeriod = value(after: "CPU Period: ", in: text).flatMap { Int64($0.replacingOccurrences(of: "us", with: "")) }
        observed.javaMemory = value(after: "    Memory Limit: ", in: text)
    }

    static func observeNode(_ namespace: Namespace, _ observed: inout Observed) throws {
        let node = try namespace.run(["node", "-e", "console.log(require('os').availableParallelism(), process.constrainedMemory())"])
        let fields = node.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        observed.nodeCPUs = fields.first.flatMap { Int($0) }
        observed.nodeMemory = fields.count > 1 ? fields[1] : nil
    }

    /// Node prints UINT64_MAX as the double 18446744073709552000 and 0 (unknown) as undefined or 0.
    static func expectNodeMemory(_ predicted: MemoryView?, _ printed: String?, _ comment: Comment) {
        switch predicted {
        case .unlimited: #expect(printed == "18446744073709552000", comment)
        case .bytes(let b): #expect(printed == String(b), comment)
        case .notComputed, nil: #expect(printed == "undefined" || printed == "0", comment)
        }
    }

    static func observe(_ namespace: Namespace, programs: LanguageRuntimeGroundTruthTests.Programs) throws -> Observed {
        var observed = Observed()
        try observeJava(namespace, &observed)
        let rust = try namespace.run([programs.rust])
        observed.rustCPUs = Int(rust.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        try observeNode(namespace, &observed)
        let go = try namespace.run([programs.go])
        observed.goCPUs = Int(go.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        observed.goLog = go.stderr
        return observed
    }

    /// -XshowSettings:system's size format (LauncherHelper `SizePrefix`): two decimals and K/M/G.
    static func javaSize(_ memory: MemoryView) -> String {
        switch memory {
        case .unlimited: return "Unlimited"
        case .notComputed: return "N/A"
        case .bytes(let b):
            let (unit, scale): (String, Double) =
                b >= 1 << 40 ? ("T", Double(1 << 40)) : b >= 1 << 30 ? ("G", Double(1 << 30)) : b >= 1 << 20 ? ("M", Double(1 << 20)) : ("K", 1024)
            return String(format: "%.2f", Double(b) / scale) + unit
        }
    }

    // MARK: The comparison

    /// What `cgdoctor limits` must say about the staged layout.
    struct ExpectedLimits {
        /// Index of the binding level per resource (0 = leaf, 1 = parent), nil = nothing binds.
        var cpuBinding: Int?
        var cpuCores: Double?
        var cpus: Int
        var memoryBinding: Int?
        var memoryBytes: Int?
        var memoryHighBytes: Int?
        var pidsBinding: Int? = nil
        var pidsMax: Int? = nil
    }

    static func check(_ layout: V2Layout, limits expected: ExpectedLimits, extra: (Observed, Explanation) -> Void = { _, _ in }) throws {
        try Live.exclusive {
            let programsDirectory = "/tmp/cgdoctor-test-v2gt-programs-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            defer { try? FileManager.default.removeItem(atPath: programsDirectory) }
            let programs = try LanguageRuntimeGroundTruthTests.build(into: programsDirectory).get()
            let staging = try Staging.make(layout)
            defer { staging.remove() }
            let namespace = try Namespace(staging)
            defer { namespace.close() }
            let observed = try observe(namespace, programs: programs)
            let context = Comment(rawValue: "layout \(layout.name)")

            // The real binaries saw the v2 layout (not the host's v1 one).
            #expect(observed.javaText.contains("Detected cgroups v2 unified hierarchy"), "\(context): HotSpot did not take the v2 path")
            #expect(observed.javaProvider == "cgroupv2", "\(context): Java-side provider \(observed.javaProvider ?? "none")")
            #expect(observed.javaText.contains("/sys/fs/cgroup/parent/leaf/cpu.max"), "\(context): HotSpot did not read the crafted leaf")
            // automaxprocs 1.4 is v1-only: with the crafted cgroup2 view it finds no cpu subsystem.
            #expect(observed.goLog.contains("CPU quota undefined"), "\(context): automaxprocs: \(observed.goLog)")
            for (what, value) in [
                ("hotspot", observed.hotspotCPUs), ("effective", observed.effectiveCPUs), ("rust", observed.rustCPUs),
                ("node", observed.nodeCPUs), ("go", observed.goCPUs),
            ] {
                #expect(value != nil, "\(context): \(what) printed no CPU count")
            }
            #expect(observed.hotspotCPUs == observed.effectiveCPUs, "\(context): Runtime.availableProcessors() is HotSpot's count")

            // The library's prediction for the staged sleep.
            let explanation = try Explainer.explain(pid: namespace.pid, sysroot: .live)
            func view(_ id: String) -> ConsumerView? { explanation.views.first { $0.consumer == id } }
            let predicted = Comment(
                rawValue: "\(context): predicted \(explanation.views.map { "\($0.consumer)=\($0.cpuCount.map(String.init) ?? "nil")/\($0.memory)" })")
            #expect(view("hotspot-17")?.cpuCount == observed.hotspotCPUs, predicted)
            #expect(view("hotspot-17")?.memory == observed.hotspotMemory, predicted)
            #expect(view("rust-std")?.cpuCount == observed.rustCPUs, predicted)
            #expect(view("node-20")?.cpuCount == observed.nodeCPUs, predicted)
            #expect(view("automaxprocs-1.4")?.cpuCount == observed.goCPUs, predicted)
            expectNodeMemory(view("node-20")?.memory, observed.nodeMemory, predicted)
            let input = try ConsumerInputReader(sysroot: .live).input(for: namespace.pid)
            let metrics = try #require(JavaMetrics17().metrics(input), "\(context): JavaMetrics17 found no metrics")
            #expect(metrics.provider == observed.javaProvider, predicted)
            #expect(metrics.cpuQuota == observed.javaQuota, "\(context): Java-side CPU Quota")
            #expect(metrics.cpuPeriod == observed.javaPeriod, "\(context): Java-side CPU Period")
            #expect(javaSize(metrics.memory) == observed.javaMemory, "\(context): Java-side Memory Limit, predicted \(metrics.memory)")

            // The CLI on the same live process agrees with the library (explain reads through /proc/<pid>/root).
            let cli = try Live.startCgdoctor(["explain", String(namespace.pid), "--format", "json"]).finish(timeout: 20)
            #expect(cli.status == 0 || cli.status == 1, "\(cli)")
            let document = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any]
            let consumers = document?["consumers"] as? [[String: Any]] ?? []
            for (id, value) in [
                ("hotspot-17", observed.hotspotCPUs), ("rust-std", observed.rustCPUs), ("node-20", observed.nodeCPUs),
                ("automaxprocs-1.4", observed.goCPUs),
            ] {
                let object = consumers.first { $0["consumer"] as? String == id }
                #expect(object?["cpuCount"] as? Int == value, "\(context): cgdoctor explain --format json, \(id)")
            }
            let hotspotJSON = consumers.first { $0["consumer"] as? String == "hotspot-17" }
            switch observed.hotspotMemory {
            case .bytes(let b): #expect(hotspotJSON?["memoryLimitBytes"] as? Int == Int(b), "\(context): explain JSON hotspot-17 memory")
            case .unlimited: #expect(hotspotJSON?["memoryLimitBytes"] is NSNull, "\(context): explain JSON hotspot-17 memory")
            default: Issue.record("\(context): HotSpot printed no memory limit")
            }

            // `cgdoctor limits` run inside the namespace (it opens the files through its own mounts).
            let binary = try Live.cgdoctorBinary()
            let run = try namespace.runPlain([binary, "limits", String(namespace.pid), "--runtime-pid", String(namespace.pid), "--format", "json"])
            try #require(run.status == 0, "\(context): \(run)")
            let limits = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(
                (LimitsLiveTests.dig(limits, "resources", "cpu", "levels") as? [[String: Any]])?.map { $0["cgroupPath"] as? String } == ["/parent/leaf", "/parent", "/"],
                "\(context): limits levels")
            #expect(LimitsLiveTests.dig(limits, "resources", "cpu", "version") as? Int == 2, "\(context)")
            #expect(LimitsLiveTests.dig(limits, "resources", "cpu", "binding") as? Int == expected.cpuBinding, "\(context): cpu binding")
            #expect(LimitsLiveTests.dig(limits, "effective", "cpu", "quota", "cores") as? Double == expected.cpuCores, "\(context): cpu cores")
            #expect(LimitsLiveTests.dig(limits, "effective", "cpu", "cpus") as? Int == expected.cpus, "\(context): effective cpus")
            #expect(LimitsLiveTests.dig(limits, "resources", "memory", "binding") as? Int == expected.memoryBinding, "\(context): memory binding")
            #expect(LimitsLiveTests.dig(limits, "effective", "memory", "bytes") as? Int == expected.memoryBytes, "\(context): memory bytes")
            #expect(LimitsLiveTests.dig(limits, "effective", "memoryHigh", "bytes") as? Int == expected.memoryHighBytes, "\(context): memory.high bytes")
            #expect(LimitsLiveTests.dig(limits, "resources", "pids", "binding") as? Int == expected.pidsBinding, "\(context): pids binding")
            #expect(LimitsLiveTests.dig(limits, "effective", "pids", "max") as? Int == expected.pidsMax, "\(context): pids.max")
            if expected.memoryBytes == nil {
                #expect(LimitsLiveTests.dig(limits, "effective", "memory", "state") as? String == "unlimited", "\(context): memory state")
            }
            // The library's limits (explain, through /proc/<pid>/root) bind at the same levels.
            #expect(explanation.limits?.cpu.binding == expected.cpuBinding, "\(context): library cpu binding")
            #expect(explanation.limits?.memory.binding == expected.memoryBinding, "\(context): library memory binding")
            #expect(explanation.effectiveCPUs == expected.cpus, "\(context): library effective cpus")
            extra(observed, explanation)
        }
    }

    // MARK: Layouts

    @Test("(a) leaf cpu.max 150000 100000 under a parent with max: HotSpot rounds up to 2, Rust floors to 1, Node and automaxprocs 1.4 ignore it")
    func leafCPU() throws {
        try Self.check(
            V2Layout("a-leaf-cpu", ["parent/leaf/cpu.max": "150000 100000"]),
            limits: ExpectedLimits(cpuBinding: 0, cpuCores: 1.5, cpus: 2, memoryBinding: nil, memoryBytes: nil, memoryHighBytes: nil)
        ) { observed, _ in
            #expect(observed.hotspotCPUs == 2)
            #expect(observed.rustCPUs == 1)
            #expect(observed.javaQuota == 150000)
        }
    }

    @Test("(b) parent cpu.max 50000 100000 tighter than the leaf's 200000: only Rust walks up; HotSpot 17 reads the leaf")
    func parentCPU() throws {
        try Self.check(
            V2Layout("b-parent-cpu", ["parent/cpu.max": "50000 100000", "parent/leaf/cpu.max": "200000 100000"]),
            limits: ExpectedLimits(cpuBinding: 1, cpuCores: 0.5, cpus: 1, memoryBinding: nil, memoryBytes: nil, memoryHighBytes: nil)
        ) { observed, _ in
            #expect(observed.hotspotCPUs == 2, "17.0.15 has no JDK-8322420 walk-up")
            #expect(observed.javaQuota == 200000)
            #expect(observed.rustCPUs == 1)
        }
    }

    @Test("(c) leaf memory.max 256 MiB under a parent with max: every memory reader sees 256 MiB")
    func leafMemory() throws {
        try Self.check(
            V2Layout("c-leaf-memory", ["parent/leaf/memory.max": "268435456", "parent/leaf/pids.max": "64"]),
            limits: ExpectedLimits(
                cpuBinding: nil, cpuCores: nil, cpus: 2, memoryBinding: 0, memoryBytes: 268_435_456, memoryHighBytes: nil,
                pidsBinding: 0, pidsMax: 64)
        ) { observed, _ in
            #expect(observed.hotspotMemory == .bytes(268_435_456))
            #expect(observed.javaMemory == "256.00M")
            #expect(observed.nodeMemory == "268435456")
        }
    }

    @Test("(d) parent memory.max 128 MiB tighter than the leaf's 512 MiB: HotSpot, Java side and Node all read the leaf")
    func parentMemory() throws {
        try Self.check(
            V2Layout(
                "d-parent-memory",
                ["parent/memory.max": "134217728", "parent/leaf/memory.max": "536870912", "parent/pids.max": "32", "parent/leaf/pids.max": "64"]),
            limits: ExpectedLimits(
                cpuBinding: nil, cpuCores: nil, cpus: 2, memoryBinding: 1, memoryBytes: 134_217_728, memoryHighBytes: nil,
                pidsBinding: 1, pidsMax: 32)
        ) { observed, explanation in
            #expect(observed.hotspotMemory == .bytes(536_870_912))
            #expect(observed.javaMemory == "512.00M")
            #expect(observed.nodeMemory == "536870912")
            #expect(explanation.effectiveMemory == .bytes(134_217_728))
        }
    }

    @Test("(e) memory.high 256 MiB below memory.max 512 MiB: Node takes the lower, the JVM only memory.max")
    func memoryHigh() throws {
        try Self.check(
            V2Layout("e-memory-high", ["parent/leaf/memory.max": "536870912", "parent/leaf/memory.high": "268435456"]),
            limits: ExpectedLimits(
                cpuBinding: nil, cpuCores: nil, cpus: 2, memoryBinding: 0, memoryBytes: 536_870_912, memoryHighBytes: 268_435_456)
        ) { observed, _ in
            #expect(observed.nodeMemory == "268435456")
            #expect(observed.hotspotMemory == .bytes(536_870_912))
            #expect(observed.javaMemory == "512.00M")
        }
    }

    @Test("(f) everything max: unlimited everywhere, host CPU counts")
    func unlimited() throws {
        try Self.check(
            V2Layout("f-unlimited", [:]),
            limits: ExpectedLimits(cpuBinding: nil, cpuCores: nil, cpus: 2, memoryBinding: nil, memoryBytes: nil, memoryHighBytes: nil)
        ) { observed, _ in
            #expect(observed.hotspotMemory == .unlimited)
            #expect(observed.javaMemory == "Unlimited")
            #expect(observed.javaQuota == -1)
            #expect(observed.nodeMemory == "18446744073709552000")
        }
    }

    @Test("(g) cpuset.cpus.effective 0 (the affinity narrowed to CPU 0 as the kernel would): every runtime counts 1")
    func cpuset() throws {
        try Self.check(
            V2Layout(
                "g-cpuset", affinity: "0",
                ["parent/leaf/cpuset.cpus": "0", "parent/leaf/cpuset.cpus.effective": "0"]),
            limits: ExpectedLimits(cpuBinding: nil, cpuCores: nil, cpus: 1, memoryBinding: nil, memoryBytes: nil, memoryHighBytes: nil)
        ) { observed, _ in
            #expect([observed.hotspotCPUs, observed.rustCPUs, observed.nodeCPUs, observed.goCPUs] == [1, 1, 1, 1])
        }
    }

    @Test("(g') cpuset.cpus.effective 0 in the files only, affinity left at both CPUs: no runtime here reads the cpuset files for its count")
    func cpusetFileOnly() throws {
        try Self.check(
            V2Layout("g'-cpuset-file-only", ["parent/leaf/cpuset.cpus": "0", "parent/leaf/cpuset.cpus.effective": "0"]),
            limits: ExpectedLimits(cpuBinding: nil, cpuCores: nil, cpus: 1, memoryBinding: nil, memoryBytes: nil, memoryHighBytes: nil)
        ) { observed, explanation in
            // A real kernel never leaves the affinity wider than cpuset.cpus.effective; here the files lie,
            // and every runtime follows sched_getaffinity, not the file, while cgdoctor limits takes the minimum.
            #expect([observed.hotspotCPUs, observed.rustCPUs, observed.nodeCPUs, observed.goCPUs] == [2, 2, 2, 2])
            #expect(!explanation.agrees, "explain flags the consumers that count 2 against an effective 1")
        }
    }

    @Test("(h) leaf memory.max 1 TiB, above physical memory: HotSpot ignores it and the Java side prints Unlimited")
    func memoryAbovePhysical() throws {
        try Self.check(
            V2Layout("h-memory-above-physical", ["parent/leaf/memory.max": "1099511627776"]),
            limits: ExpectedLimits(
                cpuBinding: nil, cpuCores: nil, cpus: 2, memoryBinding: 0, memoryBytes: 1_099_511_627_776, memoryHighBytes: nil)
        ) { observed, _ in
            // The premise: this machine has less than 1 TiB.
            #expect(observed.javaText.contains("container memory limit ignored: 1099511627776"))
            #expect(observed.hotspotMemory == .unlimited)
            #expect(observed.javaMemory == "Unlimited")
            #expect(observed.nodeMemory == "1099511627776")
        }
    }

    // MARK: v1 memory, crafted

    /// The real `java` (HotSpot trace and Java-side Memory Limit) and `node` against the crafted v1
    /// memory files, and the predictions for a sleep staged the same way.
    static func checkV1Memory(
        _ name: String, leaf: UInt64, parent: UInt64, hierarchical: UInt64, binding: Int, effective: UInt64,
        extra: (Observed) -> Void
    ) throws {
        try Live.exclusive {
            let staging = try Staging.make(Setup.v1Memory(leaf: leaf, parent: parent, hierarchical: hierarchical))
            defer { staging.remove() }
            let namespace = try Namespace(staging)
            defer { namespace.close() }
            let context = Comment(rawValue: "layout \(name)")
            var observed = Observed()
            try observeJava(namespace, &observed)
            try observeNode(namespace, &observed)
            let text = observed.javaText

            // They read the crafted files through the real v1 memory mount.
            #expect(text.contains("/sys/fs/cgroup/memory/cgdoctor-test-v1/leaf/memory.limit_in_bytes"), "\(context): \(text.prefix(4000))")
            #expect(observed.javaProvider == "cgroupv1", "\(context)")

            let explanation = try Explainer.explain(pid: namespace.pid, sysroot: .live)
            func view(_ id: String) -> ConsumerView? { explanation.views.first { $0.consumer == id } }
            let predicted = Comment(rawValue: "\(context): predicted \(explanation.views.map { "\($0.consumer)=\($0.memory)" })")
            #expect(observed.hotspotMemory != nil, "\(context): HotSpot printed no memory limit")
            #expect(view("hotspot-17")?.memory == observed.hotspotMemory, predicted)
            let metrics = try #require(JavaMetrics17().metrics(try ConsumerInputReader(sysroot: .live).input(for: namespace.pid)))
            #expect(javaSize(metrics.memory) == observed.javaMemory, "\(context): Java-side Memory Limit, predicted \(metrics.memory)")
            expectNodeMemory(view("node-20")?.memory, observed.nodeMemory, predicted)
            let cli = try Live.startCgdoctor(["explain", String(namespace.pid), "--format", "json", "--consumer", "hotspot-17"]).finish(timeout: 20)
            let document = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any]
            let hotspotJSON = (document?["consumers"] as? [[String: Any]])?.first
            switch observed.hotspotMemory {
            case .bytes(let b): #expect(hotspotJSON?["memoryLimitBytes"] as? Int == Int(b), "\(context): \(cli)")
            default: #expect(hotspotJSON?["memoryLimitBytes"] is NSNull, "\(context): \(cli)")
            }

            // `cgdoctor limits` in the namespace: the binding level and the kernel's hierarchical limit.
            let binary = try Live.cgdoctorBinary()
            let run = try namespace.runPlain([binary, "limits", String(namespace.pid), "--runtime-pid", String(namespace.pid), "--format", "json"])
            try #require(run.status == 0, "\(context): \(run)")
            let limits = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(LimitsLiveTests.dig(limits, "resources", "memory", "version") as? Int == 1, "\(context)")
            #expect(
                (LimitsLiveTests.dig(limits, "resources", "memory", "levels") as? [[String: Any]])?.map { $0["cgroupPath"] as? String }
                    == ["/cgdoctor-test-v1/leaf", "/cgdoctor-test-v1", "/"], "\(context): \(run.stdout)")
            #expect(LimitsLiveTests.dig(limits, "resources", "memory", "binding") as? Int == binding, "\(context): memory binding")
            #expect(LimitsLiveTests.dig(limits, "hierarchicalMemoryLimit", "bytes") as? Int == Int(hierarchical), "\(context): hierarchical")
            #expect(LimitsLiveTests.dig(limits, "effective", "memory", "bytes") as? Int == Int(effective), "\(context): effective memory")
            extra(observed)
        }
    }

    @Test("v1 crafted: leaf memory.limit_in_bytes 256 MiB; HotSpot, the Java side and Node read 256 MiB")
    func v1LeafMemory() throws {
        try Self.checkV1Memory(
            "v1-leaf-memory", leaf: 268_435_456, parent: 9_223_372_036_854_771_712, hierarchical: 268_435_456, binding: 0,
            effective: 268_435_456
        ) { observed in
            #expect(observed.hotspotMemory == .bytes(268_435_456))
            #expect(observed.javaMemory == "256.00M")
            #expect(observed.nodeMemory == "268435456")
        }
    }

    @Test("v1 crafted: parent 128 MiB, leaf unlimited; HotSpot and the Java side take hierarchical_memory_limit, Node does not")
    func v1ParentMemory() throws {
        try Self.checkV1Memory(
            "v1-parent-memory", leaf: 9_223_372_036_854_771_712, parent: 134_217_728, hierarchical: 134_217_728, binding: 1,
            effective: 134_217_728
        ) { observed in
            #expect(observed.hotspotMemory == .bytes(134_217_728))
            #expect(observed.javaMemory == "128.00M")
            #expect(observed.nodeMemory == "18446744073709552000")
        }
    }

    @Test("v1 crafted: leaf 1 TiB, above physical memory; HotSpot and the Java side call it unlimited, Node prints it")
    func v1MemoryAbovePhysical() throws {
        try Self.checkV1Memory(
            "v1-memory-above-physical", leaf: 1_099_511_627_776, parent: 9_223_372_036_854_771_712, hierarchical: 1_099_511_627_776,
            binding: 0, effective: 1_099_511_627_776
        ) { observed in
            #expect(observed.hotspotMemory == .unlimited)
            #expect(observed.javaMemory == "Unlimited")
            #expect(observed.nodeMemory == "1099511627776")
        }
    }
}
#endif
