import CgroupFormats

/// libuv's cgroup reading (src/unix/linux.c), shared by ``LibuvNode20`` and ``Libuv152``. libuv looks
/// only at the first 1023 bytes of /proc/self/cgroup and at hard-coded /sys/fs/cgroup paths; it reads
/// neither mountinfo nor /proc/cgroups.
enum LibuvEngine {
    /// `uv_get_constrained_memory()` (libuv 1.45+): 0 = unknown, UINT64_MAX = unconstrained.
    /// v2 (buffer starts "0::/"): /sys/fs/cgroup/<path>/memory.max and memory.high of the leaf only.
    /// v1: the first line whose first ':' is followed by "memory:" -> /sys/fs/cgroup/memory/<path>/
    /// memory.soft_limit_in_bytes and memory.limit_in_bytes, falling back to /sys/fs/cgroup/memory/ when
    /// either reads 0; LONG_MAX rounded to the page size becomes UINT64_MAX. Result = min(high, max),
    /// 0 if either is 0.
    static func constrainedMemory(_ trace: inout ConsumerTrace) -> UInt64 {
        guard let bytes = trace.input.read(.init("/proc/\(trace.input.pid)/cgroup")).map({ Array($0.prefix(1023)) }) ?? rebuilt(trace.input) else { return 0 }
        let text = ConsumerText.string(bytes)
        func readUInt64(_ path: String) -> UInt64 {
            guard let data = trace.read(path) else { return 0 }
            let string = ConsumerText.string(data)
            if let value = ConsumerText.scanSigned(string), value >= 0 || string.hasPrefix("-") {
                return UInt64(bitPattern: value)
            }
            return string == "max\n" ? UInt64.max : 0
        }
        var high: UInt64
        var max: UInt64
        if text.hasPrefix("0::/") {
            let path = String(text.dropFirst(4).prefix { $0 != "\n" })
            max = readUInt64("/sys/fs/cgroup/\(path)/memory.max")
            high = readUInt64("/sys/fs/cgroup/\(path)/memory.high")
        } else {
            high = 0
            max = 0
            if let path = v1MemoryPath(text) {
                high = readUInt64("/sys/fs/cgroup/memory/\(path)/memory.soft_limit_in_bytes")
                max = readUInt64("/sys/fs/cgroup/memory/\(path)/memory.limit_in_bytes")
            }
            if high == 0 || max == 0 {
                trace.note("v1 memory files not found under the cgroup path: falling back to /sys/fs/cgroup/memory/")
                high = readUInt64("/sys/fs/cgroup/memory/memory.soft_limit_in_bytes")
                max = readUInt64("/sys/fs/cgroup/memory/memory.limit_in_bytes")
            }
            let cgroup1Max = UInt64(Int64.max) & ~UInt64(4096 - 1)
            if high == cgroup1Max { high = UInt64.max }
            if max == cgroup1Max { max = UInt64.max }
        }
        if high == 0 || max == 0 { return 0 }
        return Swift.min(high, max)
    }

    /// libuv reads /proc/self/cgroup itself; when the capture has no raw copy, the parsed lines are
    /// printed back as the kernel would.
    static func rebuilt(_ input: ConsumerInput) -> [UInt8]? {
        Array(input.cgroups.entries.map { $0.text + "\n" }.joined().utf8.prefix(1023))
    }

    /// `uv__cgroup1_find_memory_controller`: the path after ":memory:/" on the first line whose first
    /// ':' starts ":memory:".
    static func v1MemoryPath(_ text: String) -> String? {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let rest = line[colon...]
            if rest.hasPrefix(":memory:") { return String(rest.dropFirst(":memory:/".count)) }
        }
        return nil
    }

    static func memoryView(_ value: UInt64, _ trace: inout ConsumerTrace) -> MemoryView {
        if value == 0 {
            trace.note("uv_get_constrained_memory() = 0 (unknown)")
            return .notComputed
        }
        if value == UInt64.max { return .unlimited }
        return .bytes(value)
    }

    /// `uv__get_constrained_cpu` of libuv 1.52: v1 finds ":cpu," and reads
    /// /sys/fs/cgroup/<text after ":cpu,">/cpu.cfs_* (broken for every standard layout); v2 walks from
    /// the leaf to /sys/fs/cgroup and returns the limit of the OUTERMOST level that has one.
    static func constrainedCPU(_ trace: inout ConsumerTrace) -> Int? {
        guard let bytes = trace.input.read(.init("/proc/\(trace.input.pid)/cgroup")).map({ Array($0.prefix(1023)) }) ?? rebuilt(trace.input) else { return nil }
        let text = ConsumerText.string(bytes)
        if text.hasPrefix("0::/") {
            let path = String(text.dropFirst(4).prefix { $0 != "\n" })
            let base = path.isEmpty ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + path
            guard trace.read(base + "/cgroup.controllers") != nil else { return nil }
            var components = path.split(separator: "/").map(String.init)
            var last: Int?
            while true {
                let directory = components.isEmpty ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + components.joined(separator: "/")
                if let line = trace.firstLine(directory + "/cpu.max") {
                    let fields = line.split(separator: " ")
                    if fields.count == 2, let limit = UInt64(fields[0]), let period = UInt64(fields[1]), period > 0 {
                        last = Swift.max(Int(limit / period), 1)
                    }
                }
                if components.isEmpty { break }
                components.removeLast()
            }
            if last != nil { trace.note("libuv keeps the outermost level's limit, not the minimum") }
            return last
        }
        guard let after = ConsumerText.after(text, ":cpu,") else {
            trace.note("no \":cpu,\" in /proc/self/cgroup: v1 CPU limit not found")
            return nil
        }
        let rest = String(after.prefix { $0 != "\n" })
        let directory = "/sys/fs/cgroup/" + rest
        trace.note("v1: libuv builds \(directory) from the text after \":cpu,\"")
        guard let q = trace.firstLine(directory + "/cpu.cfs_quota_us").flatMap({ ConsumerText.scanSigned($0) }),
            let p = trace.firstLine(directory + "/cpu.cfs_period_us").flatMap({ ConsumerText.scanSigned($0) }), q > 0, p > 0
        else { return nil }
        return Int(q / p)
    }
}
