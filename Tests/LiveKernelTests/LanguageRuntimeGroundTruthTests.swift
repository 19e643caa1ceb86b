#if os(Linux)
import CgroupDoctor
import Foundation
import Glibc
import Testing

/// Ground truth for the language-runtime models: the real `java` 17, a Rust 1.95 program calling
/// `available_parallelism`, `node` 20 and a Go program importing Debian's automaxprocs 1.4 run INSIDE a
/// staged cgroup layout, and cgdoctor's prediction for a `sleep` staged the same way (library call and
/// `cgdoctor explain --format json`) must equal what they print.
///
/// Staging follows the live rules: only `cgdoctor-test-*` children of the cpu/cpuset hierarchies are
/// created (never the memory hierarchy), mount experiments run inside `unshare -m --propagation
/// private`, everything is removed on every path.
@Suite(.serialized, .enabled(if: Live.runnable, "needs root: creates cgroups and private mount namespaces"))
struct LanguageRuntimeGroundTruthTests {
    /// A staged layout: shell commands that set it up and join it, run by a fresh shell that then
    /// execs the binary (or a sleep for the prediction).
    struct Layout {
        var name: String
        /// Run first (inside the private namespace when `privateNamespace`).
        var setup: String
        var privateNamespace: Bool
    }

    /// What each real binary printed in one layout.
    struct Observed {
        var javaCPUs: Int?
        var javaQuota: Int64?
        var javaPeriod: Int64?
        var rustCPUs: Int?
        var nodeCPUs: Int?
        var nodeMemory: String?
        var goCPUs: Int?
    }

    /// One staged cgroup directory in a real v1 hierarchy, removed on deinit.
    final class StagedCgroup {
        let path: String
        init(hierarchy: String, name: String = "cgdoctor-test-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)) throws {
            path = "/sys/fs/cgroup/\(hierarchy)/\(name)"
            guard mkdir(path, 0o755) == 0 else { throw StagingError("mkdir(\(path))", errno) }
        }
        func child(_ name: String) throws -> String {
            let p = "\(path)/\(name)"
            guard mkdir(p, 0o755) == 0 else { throw StagingError("mkdir(\(p))", errno) }
            return p
        }
        func write(_ file: String, _ value: String) throws {
            let fd = open(file, O_WRONLY)
            guard fd >= 0 else { throw StagingError("open(\(file))", errno) }
            defer { close(fd) }
            let bytes = Array(value.utf8)
            guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw StagingError("write \(value) to \(file)", errno) }
        }
        deinit {
            // Deepest first; destruction is asynchronous, so retry while tasks drain.
            let children = (try? FileManager.default.contentsOfDirectory(atPath: path))?.filter {
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(path)/\($0)", isDirectory: &isDirectory) && isDirectory.boolValue
            } ?? []
            for directory in children.map({ "\(path)/\($0)" }) + [path] {
                for _ in 0..<100 where rmdir(directory) != 0 && errno != ENOENT { usleep(20_000) }
            }
        }
    }

    // MARK: Programs, built per layout into a temporary directory removed afterwards

    struct Programs {
        var rust: String
        var go: String
    }

    /// Builds both programs into `directory` (offline: std only, GOPATH mode against Debian's sources).
    static func build(into directory: String) -> Result<Programs, StagingError> {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "fn main() { println!(\"{}\", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)); }\n"
                .write(toFile: "\(directory)/avail.rs", atomically: true, encoding: .utf8)
            try """
                package main

                import (
                \t"fmt"
                \t"runtime"

                \t_ "go.uber.org/automaxprocs"
                )

                func main() { fmt.Println(runtime.GOMAXPROCS(0)) }

                """.write(toFile: "\(directory)/main.go", atomically: true, encoding: .utf8)
            let rustc = try Spawned("/usr/bin/env", ["rustc", "-O", "-o", "\(directory)/avail", "\(directory)/avail.rs"]).finish(timeout: 60)
            guard rustc.status == 0 else { return .failure(StagingError("rustc failed: \(rustc)", 0)) }
            let go = try Spawned(
                "/usr/bin/env", ["go", "build", "-o", "\(directory)/gomax", "\(directory)/main.go"],
                environment: ["GO111MODULE": "off", "GOPATH": "/usr/share/gocode"]
            ).finish(timeout: 60)
            guard go.status == 0 else { return .failure(StagingError("go build failed: \(go)", 0)) }
            return .success(Programs(rust: "\(directory)/avail", go: "\(directory)/gomax"))
        } catch let error as StagingError {
            return .failure(error)
        } catch {
            return .failure(StagingError("building test programs: \(error)", 0))
        }
    }

    // MARK: Running inside a layout

    static func shell(_ layout: Layout, exec argv: [String]) throws -> Spawned {
        let script = layout.setup + "\nexec \"$@\""
        if layout.privateNamespace {
            let unshare = try Live.tool("/usr/bin/unshare", "/bin/unshare")
            return try Spawned(unshare, ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh"] + argv)
        }
        return try Spawned("/bin/sh", ["-c", script, "sh"] + argv)
    }

    static func observe(_ layout: Layout) throws -> Observed {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cgdoctor-test-programs-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let programs = try Self.build(into: directory).get()
        var observed = Observed()
        let java = try shell(layout, exec: ["java", "-Xlog:os+container=trace", "-XshowSettings:system", "-version"]).finish(timeout: 20)
        #expect(java.status == 0, "\(java)")
        let javaText = java.stdout + java.stderr
        observed.javaCPUs = Self.value(after: "Effective CPU Count: ", in: javaText).flatMap { Int($0) }
        observed.javaQuota = Self.value(after: "CPU Quota: ", in: javaText).flatMap { Int64($0.replacingOccurrences(of: "us", with: "")) }
        observed.javaPeriod = Self.value(after: "CPU Period: ", in: javaText).flatMap { Int64($0.replacingOccurrences(of: "us", with: "")) }
        let rust = try shell(layout, exec: [programs.rust]).finish(timeout: 20)
        observed.rustCPUs = Int(rust.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let node = try shell(
            layout, exec: ["node", "-e", "console.log(require('os').availableParallelism(), process.constrainedMemory())"]
        ).finish(timeout: 20)
        let nodeFields = node.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        observed.nodeCPUs = nodeFields.first.flatMap { Int($0) }
        observed.nodeMemory = nodeFields.count > 1 ? nodeFields[1] : nil
        let go = try shell(layout, exec: [programs.go]).finish(timeout: 20)
        observed.goCPUs = Int(go.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        return observed
    }

    static func value(after marker: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            if let range = line.range(of: marker) {
                return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// A `sleep` staged like the binaries; the prediction is made for it.
    static func sleeper(_ layout: Layout) throws -> Spawned {
        let sleeper = try shell(layout, exec: ["/bin/sleep", "60"])
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if Live.commandName(sleeper.pid) == "sleep" { return sleeper }
            if !sleeper.isRunning { break }
            usleep(10_000)
        }
        throw StagingError("sleeper for \(layout.name) did not start: \(sleeper.finish(timeout: 1))", 0)
    }

    /// Runs every real binary and the predictions in `layout`, and compares them.
    static func check(_ layout: Layout, extra: (Explanation) -> Void = { _ in }) throws {
        let observed = try observe(layout)
        // A binary that printed nothing must fail the test, not compare nil with nil.
        #expect(observed.javaCPUs != nil && observed.rustCPUs != nil, "layout \(layout.name): java/rust printed no count")
        #expect(observed.nodeCPUs != nil && observed.goCPUs != nil, "layout \(layout.name): node/go printed no count")
        let sleeper = try sleeper(layout)
        defer { sleeper.terminate() }
        let explanation = try Explainer.explain(pid: sleeper.pid, sysroot: .live)
        func view(_ id: String) -> ConsumerView? { explanation.views.first { $0.consumer == id } }
        let context = Comment(rawValue: "layout \(layout.name): \(explanation.views.map { "\($0.consumer)=\($0.cpuCount.map(String.init) ?? "nil")" })")
        #expect(view("hotspot-17")?.cpuCount == observed.javaCPUs, context)
        #expect(view("rust-std")?.cpuCount == observed.rustCPUs, context)
        #expect(view("node-20")?.cpuCount == observed.nodeCPUs, context)
        #expect(view("automaxprocs-1.4")?.cpuCount == observed.goCPUs, context)
        if let metrics = JavaMetrics17().metrics(try ConsumerInputReader(sysroot: .live).input(for: sleeper.pid)) {
            #expect(metrics.cpuQuota == observed.javaQuota, context)
            #expect(metrics.cpuPeriod == observed.javaPeriod, context)
        }
        if let memory = view("node-20")?.memory {
            switch memory {
            case .unlimited: #expect(observed.nodeMemory == "18446744073709552000", context)
            case .bytes(let b): #expect(observed.nodeMemory == String(b), context)
            case .notComputed: #expect(observed.nodeMemory == "undefined" || observed.nodeMemory == "0", context)
            }
        }
        // The CLI on the same live process agrees with the library.
        let cli = try Live.startCgdoctor(["explain", String(sleeper.pid), "--format", "json"]).finish(timeout: 20)
        #expect(cli.status == 0 || cli.status == 1, "\(cli)")
        let document = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any]
        let consumers = document?["consumers"] as? [[String: Any]] ?? []
        for (id, expected) in [
            ("hotspot-17", observed.javaCPUs), ("rust-std", observed.rustCPUs), ("node-20", observed.nodeCPUs),
            ("automaxprocs-1.4", observed.goCPUs),
        ] {
            let object = consumers.first { $0["consumer"] as? String == id }
            #expect(object?["cpuCount"] as? Int == expected, "cgdoctor explain --format json, \(id), layout \(layout.name)")
        }
        extra(explanation)
    }

    // MARK: Layouts

    @Test("v1 cpu quota 1.5 CPUs: HotSpot rounds up, Rust and automaxprocs round down, Node ignores it")
    func v1Quota() throws {
        try Live.exclusive {
            let cpu = try StagedCgroup(hierarchy: "cpu")
            try cpu.write("\(cpu.path)/cpu.cfs_quota_us", "150000")
            let layout = Layout(name: "v1-quota", setup: "echo $$ > \(cpu.path)/cgroup.procs", privateNamespace: false)
            try Self.check(layout)
        }
    }

    @Test("v1 cpuset restricted to one CPU: every runtime follows the affinity mask")
    func v1Cpuset() throws {
        try Live.exclusive {
            let cpuset = try StagedCgroup(hierarchy: "cpuset")
            let parentCpus = Live.read("/sys/fs/cgroup/cpuset/cpuset.cpus")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0"
            let mems = Live.read("/sys/fs/cgroup/cpuset/cpuset.mems")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0"
            try cpuset.write("\(cpuset.path)/cpuset.mems", mems)
            try cpuset.write("\(cpuset.path)/cpuset.cpus", String(parentCpus.prefix { $0 != "," && $0 != "-" }))
            let layout = Layout(name: "v1-cpuset", setup: "echo $$ > \(cpuset.path)/cgroup.procs", privateNamespace: false)
            try Self.check(layout)
        }
    }

    @Test("named hierarchy name=cgdoctor-test-cpu_mirror mounted: the 8u191 substring matcher is fooled, HotSpot 17 is not")
    func namedCpuMirror() throws {
        try Live.exclusive {
            let cpu = try StagedCgroup(hierarchy: "cpu")
            try cpu.write("\(cpu.path)/cpu.cfs_quota_us", "50000")
            let name = "cgdoctor-test-cpu_mirror-\(getpid())"
            let mountPoint = "/tmp/\(name)"
            let setup = """
                mkdir -p \(mountPoint) && mount -t cgroup -o none,name=\(name) cgroup \(mountPoint) || exit 99
                echo $$ > \(cpu.path)/cgroup.procs
                """
            defer {
                rmdir(mountPoint)
                // The hierarchy dies with the namespace that mounted it (no children), but the kernel
                // destroys it asynchronously: hold the lock until it is no longer listed, or the next
                // live test (the clean-host one) sees a hierarchy "listed but mounted nowhere".
                #expect(Self.waitUntilUnlisted(name), "name=\(name) still listed 10 s after its namespace died")
            }
            let layout = Layout(name: "named-cpu_mirror", setup: setup, privateNamespace: true)
            try Self.check(layout) { explanation in
                let hotspot = explanation.views.first { $0.consumer == "hotspot-17" }
                let old = explanation.views.first { $0.consumer == "hotspot-8u191" }
                #expect(hotspot?.cpuCount == 1)
                #expect(old?.cpuCount == 2, "8u191 takes the cpu_mirror mount for cpu and falls back to the host count")
                #expect(old?.mount == mountPoint)
            }
        }
    }

    /// Polls /proc/self/cgroup until no line names `name=<name>`; false after 10 s.
    static func waitUntilUnlisted(_ name: String) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let listed = Live.read("/proc/self/cgroup")?.split(separator: "\n").contains { line in
                line.split(separator: ":", maxSplits: 2).dropFirst().first?.split(separator: ",").contains("name=\(name)"[...]) == true
            } ?? false
            if !listed { return true }
            usleep(20_000)
        }
        return false
    }

    @Test("container view: the cpu hierarchy bind-mounted from the process's own cgroup (mount root = cgroup path)")
    func containerView() throws {
        try Live.exclusive {
            let cpu = try StagedCgroup(hierarchy: "cpu")
            try cpu.write("\(cpu.path)/cpu.cfs_quota_us", "50000")
            let relative = String(cpu.path.dropFirst("/sys/fs/cgroup/cpu".count))
            let staging = "/tmp/cgdoctor-test-bind-\(getpid())"
            let setup = """
                echo $$ > \(cpu.path)/cgroup.procs
                mkdir -p \(staging) && mount --bind /sys/fs/cgroup/cpu\(relative) \(staging) || exit 99
                umount /sys/fs/cgroup/cpu && mount --bind \(staging) /sys/fs/cgroup/cpu && umount \(staging) || exit 98
                """
            defer { rmdir(staging) }
            try Self.check(Layout(name: "container-view", setup: setup, privateNamespace: true))
        }
    }

    @Test("process below its mount root: HotSpot 17 gets no path (host count), Rust and automaxprocs strip the root")
    func belowMountRoot() throws {
        try Live.exclusive {
            let cpu = try StagedCgroup(hierarchy: "cpu")
            let child = try cpu.child("child")
            try cpu.write("\(child)/cpu.cfs_quota_us", "50000")
            let relative = String(cpu.path.dropFirst("/sys/fs/cgroup/cpu".count))
            let staging = "/tmp/cgdoctor-test-bind-\(getpid())"
            let setup = """
                echo $$ > \(child)/cgroup.procs
                mkdir -p \(staging) && mount --bind /sys/fs/cgroup/cpu\(relative) \(staging) || exit 99
                umount /sys/fs/cgroup/cpu && mount --bind \(staging) /sys/fs/cgroup/cpu && umount \(staging) || exit 98
                """
            defer { rmdir(staging) }
            try Self.check(Layout(name: "below-mount-root", setup: setup, privateNamespace: true)) { explanation in
                #expect(explanation.views.first { $0.consumer == "hotspot-17" }?.cpuCount == 2)
            }
        }
    }

    @Test("duplicate cpu mount: a bind of a child cgroup stacked on /sys/fs/cgroup/cpu; HotSpot keeps the first")
    func duplicateCpuMount() throws {
        try Live.exclusive {
            let cpu = try StagedCgroup(hierarchy: "cpu")
            let child = try cpu.child("child")
            try cpu.write("\(child)/cpu.cfs_quota_us", "50000")
            let setup = """
                mount --bind \(cpu.path) /sys/fs/cgroup/cpu || exit 99
                echo $$ > /sys/fs/cgroup/cpu/child/cgroup.procs
                """
            try Self.check(Layout(name: "duplicate-cpu-mount", setup: setup, privateNamespace: true))
        }
    }
}
#endif
