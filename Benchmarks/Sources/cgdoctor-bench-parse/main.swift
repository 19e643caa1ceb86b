// cgdoctor-bench-parse: what the library's mountinfo parser costs, without the kernel.
//
//   cgdoctor-bench-parse parse FILE ITERS   read FILE once into memory, then time ITERS calls of
//                                           MountInfo.parse(_:file:selecting: .all) (every entry
//                                           materialised as Strings and FilePaths); prints the
//                                           median wall time and the mean CPU time per parse
//   cgdoctor-bench-parse table FILE ITERS   the same for MountTable.parse: the tokenizer every
//                                           mountinfo read goes through (fields validated, root,
//                                           mount point and source decoded into one arena)
//   cgdoctor-bench-parse mounts             read /proc/self/mountinfo with read(2) until EOF and
//                                           tokenize it into a MountTable once (the library on a
//                                           live table)
//
// Output is one line of key=value pairs in the same shape as the C and Go programs'.
import CgroupFormats

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

func readAll(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

func nowMs() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
}

func cpuMs() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3
        + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3
}

func fail(_ message: String, _ code: Int32 = 2) -> Never {
    let text = Array("cgdoctor-bench-parse: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

let args = CommandLine.arguments
if args.count == 4, args[1] == "parse" || args[1] == "table" {
    let file = args[2]
    let iters = max(1, Int(args[3]) ?? 1)
    guard let bytes = readAll(file) else { fail("cannot read \(file)") }
    let materialise = args[1] == "parse"
    // Returns (mounts, bad) so the optimizer cannot drop the work.
    func once() -> (Int, Int) {
        if materialise {
            let info = MountInfo.parse(bytes, file: file, selecting: .all)
            return (info.entries.count, info.errors.count)
        }
        let table = MountTable.parse(bytes, file: file)
        return (table.count, table.errors.count)
    }
    var counts = once()  // warm-up
    var times = [Double](repeating: 0, count: iters)
    let c0 = cpuMs()
    for i in 0..<iters {
        let t0 = nowMs()
        counts = once()
        times[i] = nowMs() - t0
    }
    let cpu = (cpuMs() - c0) / Double(iters)
    times.sort()
    let median = times[iters / 2]
    print("parse_median_ms=\(fmt(median)) parse_cpu_ms=\(fmt(cpu)) iters=\(iters) bytes=\(bytes.count) "
        + "mounts=\(counts.0) bad=\(counts.1)")
} else if args.count == 2, args[1] == "mounts" {
    // Read with read(2) until EOF, then tokenize every line into a MountTable: what every
    // mountinfo read in cgdoctor costs before it materialises the mounts it keeps.
    guard let bytes = readAll("/proc/self/mountinfo") else { fail("cannot read /proc/self/mountinfo") }
    let table = MountTable.parse(bytes, file: "/proc/self/mountinfo")
    print("bytes=\(bytes.count) mounts=\(table.count) bad=\(table.errors.count)")
} else {
    fail("usage: cgdoctor-bench-parse parse|table FILE ITERS | mounts")
}

func fmt(_ x: Double) -> String {
    let scaled = Int((x * 10_000).rounded())
    let frac = String(scaled % 10_000)
    return "\(scaled / 10_000)." + String(repeating: "0", count: 4 - frac.count) + frac
}
