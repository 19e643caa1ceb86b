import CgroupFormats
import SystemPackage

// Plumbing shared by the consumer models: a trace of what a consumer reads, and the handful of
// string and number rules runtimes apply to cgroup files. Each model still spells out its own
// upstream rules; these helpers only avoid re-typing the same byte handling eleven times.

/// The files a consumer opens and the steps it takes, in order, as the model replays them.
struct ConsumerTrace {
    let input: ConsumerInput
    var files: [String] = []
    var notes: [String] = []

    init(_ input: ConsumerInput) { self.input = input }

    /// Reads `path` as the consumer would (in the process's view), recording it. nil: missing or unreadable.
    mutating func read(_ path: String) -> [UInt8]? {
        files.append(path)
        return input.read(FilePath(path))
    }

    /// The first line of a file, without its newline; nil when the file cannot be read.
    mutating func firstLine(_ path: String) -> String? {
        guard let bytes = read(path) else { return nil }
        return ConsumerText.firstLine(bytes)
    }

    mutating func note(_ text: String) { notes.append(text) }

    /// True when `path` is a directory the consumer could open (Rust `exists`, JDK suffix search).
    func directoryExists(_ path: String) -> Bool {
        (try? input.sysroot.listDirectory(FilePath(path))) != nil
    }

    func view(
        _ model: some ConsumerModel, cpuCount: Int?, memory: MemoryView, mount: String?, error: String? = nil
    ) -> ConsumerView {
        ConsumerView(
            consumer: model.id, name: model.name, version: model.version, verifiedAgainstBinary: model.verifiedAgainstBinary,
            cpuCount: cpuCount, memory: memory, mount: mount, files: files, error: error, notes: notes)
    }
}

/// Text rules runtimes use on cgroup files and /proc lines.
enum ConsumerText {
    static func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func firstLine(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: 0x0A) ?? bytes.endIndex
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// C `sscanf("%ld")`-like: optional leading blanks and sign, digits, stops at the first non-digit.
    /// nil when no digit was read.
    static func scanSigned(_ text: some StringProtocol) -> Int64? {
        var scalars = Substring(text).drop { $0 == " " || $0 == "\t" || $0 == "\n" }
        var negative = false
        if let first = scalars.first, first == "-" || first == "+" {
            negative = first == "-"
            scalars = scalars.dropFirst()
        }
        let digits = scalars.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        // Saturate like strtol does on overflow.
        guard let value = Int64(digits) else { return negative ? Int64.min : Int64.max }
        return negative ? -value : value
    }

    /// Strict decimal (Go `strconv.Atoi`, Rust `parse::<usize>`): the whole string, nothing else.
    static func strictSigned(_ text: some StringProtocol) -> Int64? { Int64(String(text)) }

    static func strictUnsigned(_ text: some StringProtocol) -> UInt64? {
        let string = String(text)
        guard !string.hasPrefix("+") else { return nil }
        return UInt64(string)
    }

    /// `key value` lines (memory.stat): the value of the first line whose key is `key`.
    static func keyedValue(_ bytes: [UInt8], key: String) -> UInt64? {
        for line in string(bytes).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0] == key { return UInt64(parts[1].trimmingSpaces) }
        }
        return nil
    }

    /// The text after the first occurrence of `needle` (C `strstr(...) + strlen(needle)`).
    static func after(_ text: String, _ needle: String) -> Substring? {
        let hay = Array(text.utf8)
        let pin = Array(needle.utf8)
        guard !pin.isEmpty, hay.count >= pin.count else { return nil }
        for start in 0...(hay.count - pin.count) where hay[start..<(start + pin.count)].elementsEqual(pin) {
            let index = text.utf8.index(text.utf8.startIndex, offsetBy: start + pin.count)
            return text[index...]
        }
        return nil
    }

    /// A cpu list (`0-3,5`) as the kernel prints it; nil if malformed.
    static func cpuListCount(_ text: some StringProtocol) -> Int? {
        var count = 0
        for part in text.split(separator: ",") {
            let range = part.trimmingSpaces.split(separator: "-")
            if range.count == 1, Int(range[0]) != nil {
                count += 1
            } else if range.count == 2, let low = Int(range[0]), let high = Int(range[1]), low <= high {
                count += high - low + 1
            } else {
                return nil
            }
        }
        return count
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

/// Go's `path/filepath` rules, as Go consumers (automaxprocs, containerd) apply them to cgroup paths.
enum GoPath {
    /// `filepath.Clean` for absolute or relative slash paths.
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(component)
                }
                continue
            }
            parts.append(component)
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// `filepath.Join`.
    static func join(_ elements: String...) -> String {
        let nonEmpty = elements.filter { !$0.isEmpty }
        if nonEmpty.isEmpty { return "" }
        return clean(nonEmpty.joined(separator: "/"))
    }

    /// `filepath.Rel(base, target)` for two absolute paths (never fails then).
    static func rel(_ base: String, _ target: String) -> String {
        let b = clean(base).split(separator: "/").map(String.init)
        let t = clean(target).split(separator: "/").map(String.init)
        var common = 0
        while common < b.count && common < t.count && b[common] == t[common] { common += 1 }
        let ups = Array(repeating: "..", count: b.count - common)
        let rest = Array(t[common...])
        let all = ups + rest
        return all.isEmpty ? "." : all.joined(separator: "/")
    }
}

/// Host facts some runtimes compare cgroup values against.
enum HostFacts {
    /// `MemTotal` of /proc/meminfo in bytes: what `sysconf(_SC_PHYS_PAGES) * page size` gives
    /// HotSpot (`os::Linux::physical_memory()`). nil when unreadable.
    static func physicalMemory(_ input: ConsumerInput) -> UInt64? {
        guard let bytes = input.read("/proc/meminfo") else { return nil }
        guard let kib = ConsumerText.keyedValue(
            Array(ConsumerText.string(bytes).replacingColonSpaces().utf8), key: "MemTotal")
        else { return nil }
        return kib * 1024
    }

    /// The CPU count `sched_getaffinity` gives the process, else the online count.
    static func affinity(_ input: ConsumerInput) -> Int? { input.affinityCPUs ?? input.onlineCPUs }

    /// What `statfs("/sys/fs/cgroup").f_type == CGROUP2_SUPER_MAGIC` answers, decided from the
    /// process's mountinfo (the last mount at /sys/fs/cgroup is the one a lookup reaches) so a
    /// capture replays the same way.
    static func sysFsCgroupIsCgroup2(_ input: ConsumerInput) -> Bool {
        input.mountInfo.entries.last { $0.mountPoint == "/sys/fs/cgroup" }?.fileSystemType == "cgroup2"
    }
}

extension String {
    /// `MemTotal:       24684096 kB` -> `MemTotal 24684096` so the keyed-value reader can take it.
    fileprivate func replacingColonSpaces() -> String {
        split(separator: "\n").map { line -> String in
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2 else { return String(line) }
            return "\(parts[0].dropLast(parts[0].hasSuffix(":") ? 1 : 0)) \(parts[1])"
        }.joined(separator: "\n")
    }
}

/// Double division rounding helpers, named for what the runtime does.
enum QuotaMath {
    /// `ceilf((float)quota / (float)period)` as HotSpot computes it (single precision).
    static func ceilFloat(_ quota: Int64, _ period: Int64) -> Int {
        Int((Float(quota) / Float(period)).rounded(.up))
    }

    static func ceilDouble(_ quota: Double, _ period: Double) -> Int { Int((quota / period).rounded(.up)) }
}
