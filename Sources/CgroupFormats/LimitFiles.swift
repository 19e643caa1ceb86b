/// Limit interface files: the single values the kernel prints for CPU bandwidth, memory and pids.
///
/// Sources (kernel 6.x): v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us` (kernel/sched/core.c,
/// `cpu_cfs_quota_read_s64` prints `%lld\n`, -1 for no quota), v2 `cpu.max` (`cpu_max_show`:
/// `"max 100000\n"` or `"150000 100000\n"`), v1 `memory.limit_in_bytes` (mm/memcontrol-v1.c,
/// `mem_cgroup_read_u64`: `counter->max * PAGE_SIZE`), v2 `memory.max`/`memory.high`/`pids.max`
/// (`"max\n"` or a decimal), Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/memory.rst.
///
/// Position on whitespace (the corpus disagrees, see docs/limits.md): the kernel always ends a value
/// with one newline; we accept the value with any trailing newlines, spaces or TABs, and without
/// one (captures and hand-made fixtures lose it). Nothing may precede the value, and a second value
/// is an error, so `"100000 50000"` in a v1 file is never read as 100000.

/// A limit as the kernel states it. Never a magic number for "unlimited": `max`, `-1` and v1's
/// page-rounded LONG_MAX all become ``unlimited``.
public enum Limit: Sendable, Hashable, CustomStringConvertible {
    case unlimited
    case value(UInt64)

    /// The number, nil when unlimited.
    public var value: UInt64? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .unlimited: "unlimited"
        case .value(let v): "\(v)"
        }
    }
}

/// `cpu.cfs_quota_us` and `cpu.cfs_period_us` (cgroup v1, CONFIG_CFS_BANDWIDTH).
public enum CFSBandwidthFile {
    /// `cpu.cfs_quota_us`: `-1` (no quota) or the microseconds of CPU time per period.
    /// Example: `"150000\n"`. Any other negative number is an error: the kernel never prints one.
    public static func parseQuota(_ bytes: [UInt8], file: String) throws(ParseError) -> Limit {
        let text = try LimitText.singleValue(bytes, file: file, field: "quota")
        if text.elementsEqual("-1".utf8) { return .unlimited }
        return .value(try LimitText.number(text, file: file, field: "quota", whole: bytes))
    }

    /// `cpu.cfs_period_us`: microseconds, 1000..1000000 on every kernel (`tg_set_cfs_bandwidth`
    /// rejects others). Zero is an error rather than "undefined": dividing by it is never meaningful,
    /// and only a fabricated file can hold it (num_cpus calls it None, automaxprocs "undefined").
    public static func parsePeriod(_ bytes: [UInt8], file: String) throws(ParseError) -> UInt64 {
        let text = try LimitText.singleValue(bytes, file: file, field: "period")
        let period = try LimitText.number(text, file: file, field: "period", whole: bytes)
        if period == 0 {
            throw ParseError(
                file: file, line: 1, field: "period", reason: "a CFS period of 0 is outside the kernel's range (1000..1000000 us)",
                text: LimitText.firstLine(bytes))
        }
        return period
    }
}

/// `cpu.max` (cgroup v2): `$MAX $PERIOD`, `max` meaning no quota.
public struct CPUMax: Sendable, Hashable, CustomStringConvertible {
    /// Microseconds per period, or unlimited.
    public var quota: Limit
    /// Microseconds.
    public var period: UInt64
    /// False when the file held only `$MAX`: the kernel never prints that (it is the write syntax of
    /// `cpu_max_write`), so the period is the kernel's default, ``defaultPeriod``.
    public var periodStated: Bool

    /// `default_cfs_period()`: 100 ms.
    public static let defaultPeriod: UInt64 = 100_000

    public init(quota: Limit, period: UInt64, periodStated: Bool = true) {
        self.quota = quota
        self.period = period
        self.periodStated = periodStated
    }

    public var description: String { "\(quota == .unlimited ? "max" : quota.description) \(period)" }

    /// Example: `"150000 100000\n"`, `"max 100000\n"`. A single field (`"500000"`) is accepted with
    /// the default period, as automaxprocs does (the Go runtime rejects it; docs/limits.md).
    /// Zero, one-too-many and non-numeric fields are errors naming the field.
    public static func parse(_ bytes: [UInt8], file: String) throws(ParseError) -> CPUMax {
        let line = LimitText.firstLine(bytes)
        let fields = try LimitText.fields(bytes, file: file)
        guard fields.count == 1 || fields.count == 2 else {
            throw ParseError(
                file: file, line: 1, field: "line", reason: "expected \"$MAX $PERIOD\", got \(fields.count) fields", text: line)
        }
        let quota: Limit
        if fields[0].elementsEqual("max".utf8) {
            quota = .unlimited
        } else {
            quota = .value(try LimitText.number(fields[0], file: file, field: "quota", whole: bytes))
        }
        guard fields.count == 2 else { return CPUMax(quota: quota, period: defaultPeriod, periodStated: false) }
        let period = try LimitText.number(fields[1], file: file, field: "period", whole: bytes)
        if period == 0 {
            throw ParseError(
                file: file, line: 1, field: "period", reason: "a CFS period of 0 is outside the kernel's range (1000..1000000 us)",
                text: line)
        }
        return CPUMax(quota: quota, period: period)
    }
}

/// v2 `memory.max`, `memory.high`, `memory.swap.max`, `pids.max` (v1 and v2): `max` or a decimal.
public enum MaxOrNumberFile {
    /// Example: `"max\n"`, `"536870912\n"`. `-1` is an error: the kernel accepts it on write in
    /// v1 only and never prints it (tikv's table reads it as unlimited; docs/limits.md).
    public static func parse(_ bytes: [UInt8], file: String) throws(ParseError) -> Limit {
        let text = try LimitText.singleValue(bytes, file: file, field: "value")
        if text.elementsEqual("max".utf8) { return .unlimited }
        return .value(try LimitText.number(text, file: file, field: "value", whole: bytes))
    }
}

/// v1 `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes`, `memory.soft_limit_in_bytes`).
///
/// v1 has no "max" spelling: an unlimited counter prints `PAGE_COUNTER_MAX * PAGE_SIZE`, where
/// `PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE` (include/linux/page_counter.h). With 4 KiB pages that
/// is 9223372036854771712, with 16 KiB 9223372036854759424, with 64 KiB 9223372036854710272. No
/// real limit can be that large (the counter cannot count past it), so every value at or above the
/// 64 KiB-page form is the kernel saying "unlimited". TiKV and others compare it as a number and
/// report an 8 EiB limit; cgdoctor reports ``Limit/unlimited``.
public enum V1MemoryLimitFile {
    /// LONG_MAX rounded down to a 64 KiB page: the smallest "unlimited" any 64-bit kernel prints.
    public static let unlimitedThreshold: UInt64 = (UInt64(Int64.max) / 65536) * 65536

    /// Example: `"9223372036854771712\n"` (unlimited), `"536870912\n"`.
    public static func parse(_ bytes: [UInt8], file: String) throws(ParseError) -> Limit {
        let text = try LimitText.singleValue(bytes, file: file, field: "value")
        return classify(try LimitText.number(text, file: file, field: "value", whole: bytes))
    }

    /// A v1 byte count as a limit: the page-rounded LONG_MAX forms are unlimited.
    public static func classify(_ bytes: UInt64) -> Limit {
        bytes >= unlimitedThreshold ? .unlimited : .value(bytes)
    }
}

/// v1 `memory.stat`: `key value` lines of unsigned decimals (mm/memcontrol-v1.c `memcg1_stat_format`).
///
/// Not ``FlatKeyedFile``: that one stops at 18 digits, and `hierarchical_memory_limit` of an
/// unlimited cgroup has 19 (9223372036854771712).
public struct MemoryStat: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var key: String
        public var value: UInt64
    }

    public var file: String
    public var entries: [Entry]
    public var errors: [ParseError]

    public subscript(key: String) -> Entry? { entries.first { $0.key == key } }

    /// `hierarchical_memory_limit`: the minimum `memory.limit_in_bytes` of the cgroup and every
    /// ancestor up to the hierarchy's root, computed by the kernel (`memcg1_stat_format`), so it
    /// covers ancestors a container's mount does not show. Nil when the line is absent (kernels
    /// before 2.6.29 or `memory.use_hierarchy` 0 still print it; absence means an unknown format).
    public var hierarchicalMemoryLimit: (limit: Limit, line: Int)? {
        guard let entry = self["hierarchical_memory_limit"] else { return nil }
        return (V1MemoryLimitFile.classify(entry.value), entry.line)
    }

    /// Example: `"cache 0\nrss 4096\nhierarchical_memory_limit 9223372036854771712\n"`.
    public static func parse(_ bytes: [UInt8], file: String) -> MemoryStat {
        var entries: [Entry] = []
        var errors: [ParseError] = []
        var number = 0
        for line in bytes.split(separator: ASCII.newline, omittingEmptySubsequences: false) {
            number += 1
            if line.isEmpty { continue }
            let text = String(decoding: line, as: UTF8.self)
            guard let space = line.firstIndex(of: ASCII.space) else {
                errors.append(ParseError(file: file, line: number, field: "line", reason: "expected \"key value\"", text: text))
                continue
            }
            let valueBytes = line[(space + 1)...]
            guard let value = LimitText.parseUInt64(valueBytes) else {
                errors.append(
                    ParseError(
                        file: file, line: number, field: "value",
                        reason: "expected an unsigned decimal number, got \"\(String(decoding: valueBytes, as: UTF8.self))\"",
                        text: text))
                continue
            }
            entries.append(Entry(line: number, key: String(decoding: line[..<space], as: UTF8.self), value: value))
        }
        return MemoryStat(file: file, entries: entries, errors: errors)
    }
}

/// Shared byte handling of the single-value files.
enum LimitText {
    static func isSpace(_ byte: UInt8) -> Bool { byte == ASCII.newline || byte == ASCII.space || byte == ASCII.tab }

    /// The file's first line as text, for error messages.
    static func firstLine(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: ASCII.newline) ?? bytes.endIndex
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// The bytes without trailing newlines, spaces and TABs.
    static func trimmedTrailing(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var end = bytes.endIndex
        while end > bytes.startIndex && isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[..<end]
    }

    /// The one value of a single-value file: no leading whitespace, no second field, no second line.
    static func singleValue(_ bytes: [UInt8], file: String, field: String) throws(ParseError) -> ArraySlice<UInt8> {
        let text = trimmedTrailing(bytes)
        if text.isEmpty {
            throw ParseError(
                file: file, line: 1, field: field,
                reason: bytes.isEmpty ? "empty file (the kernel always writes a value)" : "no value, only whitespace",
                text: firstLine(bytes))
        }
        if let odd = text.firstIndex(where: isSpace) {
            let what = text[odd] == ASCII.newline ? "more than one line" : "more than one field"
            throw ParseError(file: file, line: 1, field: field, reason: "expected one value, got \(what)", text: firstLine(bytes))
        }
        return text
    }

    /// Space-separated fields of a one-line file (cpu.max).
    static func fields(_ bytes: [UInt8], file: String) throws(ParseError) -> [ArraySlice<UInt8>] {
        let text = trimmedTrailing(bytes)
        if text.isEmpty {
            throw ParseError(
                file: file, line: 1, field: "line",
                reason: bytes.isEmpty ? "empty file (the kernel always writes a value)" : "no value, only whitespace",
                text: firstLine(bytes))
        }
        if text.contains(ASCII.newline) {
            throw ParseError(file: file, line: 1, field: "line", reason: "expected one line, got more", text: firstLine(bytes))
        }
        if isSpace(text[text.startIndex]) {
            throw ParseError(file: file, line: 1, field: "line", reason: "leading whitespace", text: firstLine(bytes))
        }
        return text.split(whereSeparator: { $0 == ASCII.space || $0 == ASCII.tab })
    }

    static func number(_ text: ArraySlice<UInt8>, file: String, field: String, whole: [UInt8]) throws(ParseError) -> UInt64 {
        guard let value = parseUInt64(text) else {
            throw ParseError(
                file: file, line: 1, field: field,
                reason: "expected an unsigned decimal number, got \"\(String(decoding: text, as: UTF8.self))\"",
                text: firstLine(whole))
        }
        return value
    }

    /// An unsigned decimal with no sign and no overflow (20 digits fit UInt64 up to 18446744073709551615).
    static func parseUInt64(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        if bytes.isEmpty || bytes.count > 20 { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= ASCII.zero && byte <= ASCII.nine else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - ASCII.zero))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }
}
