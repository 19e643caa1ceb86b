import SystemPackage

/// Byte-level helpers shared by the parsers. Everything here works on `UnsafeBufferPointer<UInt8>`
/// slices: /proc files are ASCII-ish but not guaranteed UTF-8, and byte parsing keeps us within a
/// few percent of the kernel's own cost of producing the text (see BENCHMARKS.md).
enum ASCII {
    static let newline: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let comma: UInt8 = 0x2C
    static let backslash: UInt8 = 0x5C
    static let hyphen: UInt8 = 0x2D
    static let slash: UInt8 = 0x2F
    static let hash: UInt8 = 0x23
    static let quote: UInt8 = 0x22
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let seven: UInt8 = 0x37
}

/// Calls `body` once per line, split on `\n` only (a raw CR is data, per proc_pid_mountinfo(5)
/// the kernel escapes only space, TAB, newline and backslash). `lineNumber` is 1-based; empty lines
/// are passed too so numbering matches the file.
@inline(__always)
func forEachLine(
    _ buffer: UnsafeBufferPointer<UInt8>,
    _ body: (_ line: UnsafeBufferPointer<UInt8>, _ lineNumber: Int) -> Void
) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    var start = 0
    var number = 1
    let end = buffer.count
    while start < end {
        let remaining = end - start
        let lineEnd: Int
        if let hit = memchr(base + start, Int32(ASCII.newline), remaining) {
            lineEnd = UnsafeRawPointer(hit).assumingMemoryBound(to: UInt8.self) - base
        } else {
            lineEnd = end
        }
        body(UnsafeBufferPointer(rebasing: buffer[start..<lineEnd]), number)
        number += 1
        start = lineEnd + 1
    }
}

/// Parses an unsigned decimal number with no sign, no spaces and no overflow.
@inline(__always)
func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    if bytes.isEmpty || bytes.count > 18 { return nil }
    var value = 0
    for byte in bytes {
        guard byte >= ASCII.zero && byte <= ASCII.nine else { return nil }
        value = value &* 10 &+ Int(byte &- ASCII.zero)
    }
    return value
}

/// Decodes a field as text for display: invalid UTF-8 becomes U+FFFD.
@inline(__always)
func decodeLossy(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// Builds a `FilePath` from raw bytes without a lossy UTF-8 round trip (paths are bytes on Linux).
/// Returns nil when the bytes contain NUL, which no kernel path can.
func filePath(_ bytes: UnsafeBufferPointer<UInt8>) -> FilePath? {
    if bytes.isEmpty { return FilePath("") }
    if memchr(bytes.baseAddress!, 0, bytes.count) != nil { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { scratch in
        for index in 0..<bytes.count { scratch[index] = CChar(bitPattern: bytes[index]) }
        scratch[bytes.count] = 0
        return FilePath(platformString: scratch.baseAddress!)
    }
}

/// Decodes the octal escapes the kernel writes into mountinfo path fields (`mangle_path` in
/// fs/proc_namespace.c escapes `" \t\n\\"` as `\ooo`). A backslash not followed by exactly three
/// octal digits with a value up to 0377 is kept literally: the kernel never writes one, and
/// keeping it loses nothing (see docs/conformance.md, "octal escapes").
func unescapeOctal(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
    output.removeAll(keepingCapacity: true)
    output.reserveCapacity(bytes.count)
    var index = 0
    let count = bytes.count
    while index < count {
        let byte = bytes[index]
        if byte == ASCII.backslash, let value = octalTriple(bytes, at: index + 1) {
            output.append(value)
            index += 4
            continue
        }
        output.append(byte)
        index += 1
    }
}

@inline(__always)
private func octalTriple(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt8? {
    guard index + 2 < bytes.count else { return nil }
    let a = bytes[index], b = bytes[index + 1], c = bytes[index + 2]
    guard a >= ASCII.zero && a <= 0x33,  // first digit 0-3 keeps the value within a byte
        b >= ASCII.zero && b <= ASCII.seven,
        c >= ASCII.zero && c <= ASCII.seven
    else { return nil }
    return (a - ASCII.zero) << 6 | (b - ASCII.zero) << 3 | (c - ASCII.zero)
}

/// True when `bytes` contains a backslash, i.e. may hold an escape.
@inline(__always)
func containsBackslash(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
    return memchr(base, Int32(ASCII.backslash), bytes.count) != nil
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
