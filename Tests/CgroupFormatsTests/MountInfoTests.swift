import SystemPackage
import Testing

@testable import CgroupFormats

/// One mountinfo line and what proc_pid_mountinfo(5) says it means. Cases are named after the
/// report or test suite the line comes from.
struct MountLineCase: Sendable, CustomTestStringConvertible {
    let name: String
    let line: String
    var root = "/"
    var mountPoint: String
    var deleted = false
    var optional: [String] = []
    var fsType: String
    var source: String?
    var superOptions: [String]
    var testDescription: String { name }
}

struct MountInfoTests {
    static let lines: [MountLineCase] = [
        MountLineCase(
            name: "mobyEscapedSpace", line: #"486 28 252:1 / /mnt/foo\040bar rw,relatime shared:243 - ext4 /dev/vda1 rw,data=ordered"#,
            mountPoint: "/mnt/foo bar", optional: ["shared:243"], fsType: "ext4", source: "/dev/vda1", superOptions: ["rw", "data=ordered"]),
        MountLineCase(
            name: "mobyNewlineTabBackslash",
            line: #"649 94 259:5 /tmp/newline\012tab\011space\040backslash\134quote1'quote2" /tmp/x rw - ext4 /dev/nvme0n1p5 rw,seclabel"#,
            root: "/tmp/newline\ntab\tspace backslash\\quote1'quote2\"", mountPoint: "/tmp/x", fsType: "ext4",
            source: "/dev/nvme0n1p5", superOptions: ["rw", "seclabel"]),
        MountLineCase(
            name: "utilLinuxRawCarriageReturn", line: "49 20 0:56 / /mnt/test/foo\rbar rw,relatime shared:323 - tmpfs tmpfs rw",
            mountPoint: "/mnt/test/foo\rbar", optional: ["shared:323"], fsType: "tmpfs", source: "tmpfs", superOptions: ["rw"]),
        MountLineCase(
            name: "utilLinuxEmptySource", line: "21 20 0:53 / /mnt/test rw,relatime shared:212 - tmpfs  rw",
            mountPoint: "/mnt/test", optional: ["shared:212"], fsType: "tmpfs", source: nil, superOptions: ["rw"]),
        MountLineCase(
            name: "rustProcfsPastaEmptySource", line: "1 0 0:31 / / ro,relatime - tmpfs  ro,size=0k,uid=1000",
            mountPoint: "/", fsType: "tmpfs", source: nil, superOptions: ["ro", "size=0k", "uid=1000"]),
        MountLineCase(
            name: "kubernetesDeletedSuffix", line: #"30 20 0:24 / /a/different/kind/of/path\040(deleted) rw - tmpfs tmpfs rw"#,
            mountPoint: "/a/different/kind/of/path", deleted: true, fsType: "tmpfs", source: "tmpfs", superOptions: ["rw"]),
        MountLineCase(
            name: "manPagePropagateFrom", line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 propagate_from:2 - ext3 /dev/root rw,errors=continue",
            root: "/mnt1", mountPoint: "/mnt2", optional: ["master:1", "propagate_from:2"], fsType: "ext3", source: "/dev/root",
            superOptions: ["rw", "errors=continue"]),
        MountLineCase(
            name: "unbindableTmpfs", line: "40 25 0:40 / /mnt/private rw unbindable - tmpfs tmpfs rw",
            mountPoint: "/mnt/private", optional: ["unbindable"], fsType: "tmpfs", source: "tmpfs", superOptions: ["rw"]),
        MountLineCase(
            name: "prometheusDoubleSpaceBeforeSeparator", line: "225 20 0:39 / /run/user/112 rw,nosuid  - tmpfs tmpfs rw,mode=700",
            mountPoint: "/run/user/112", fsType: "tmpfs", source: "tmpfs", superOptions: ["rw", "mode=700"]),
        MountLineCase(
            name: "automaxprocsWsl9pProgramFiles",
            line: #"560 77 0:138 / /Docker/host rw,noatime - 9p drvfs rw,dirsync,aname=drvfs;path=C:\Program Files\Docker;symlinkroot=/mnt/,mmap"#,
            mountPoint: "/Docker/host", fsType: "9p", source: "drvfs",
            superOptions: ["rw", "dirsync", #"aname=drvfs;path=C:\Program Files\Docker;symlinkroot=/mnt/"#, "mmap"]),
        MountLineCase(
            name: "kubeletSelinuxContextComma",
            line: #"761 60 8:0 / /var/lib/kubelet/plugins/x rw,relatime shared:421 - ext4 /dev/sda rw,context="system_u:object_r:container_file_t:s0:c314,c894",data=ordered"#,
            mountPoint: "/var/lib/kubelet/plugins/x", optional: ["shared:421"], fsType: "ext4", source: "/dev/sda",
            superOptions: ["rw", #"context="system_u:object_r:container_file_t:s0:c314,c894""#, "data=ordered"]),
        MountLineCase(
            name: "goInvalidEscapeKeptLiterally", line: #"25 21 0:22 / /sys/fs/cgroup/\1 rw - cgroup2 cgroup2 rw"#,
            mountPoint: #"/sys/fs/cgroup/\1"#, fsType: "cgroup2", source: "cgroup2", superOptions: ["rw"]),
        MountLineCase(
            name: "systemdEscapedSpaceInSource", line: #"700 21 0:70 / /tmp/zupa rw - tmpfs die\040Br\303\274he rw"#,
            mountPoint: "/tmp/zupa", fsType: "tmpfs", source: "die Brühe", superOptions: ["rw"]),
        MountLineCase(
            name: "cpuMirrorNamedHierarchy", line: "40 25 0:35 / /sys/fs/cgroup/cpu_mirror rw,relatime shared:20 - cgroup cgroup rw,name=cpu_mirror",
            mountPoint: "/sys/fs/cgroup/cpu_mirror", optional: ["shared:20"], fsType: "cgroup", source: "cgroup", superOptions: ["rw", "name=cpu_mirror"]),
    ]

    @Test(arguments: lines)
    func parsesLine(_ c: MountLineCase) throws {
        let entry = try MountInfo.parseLine(Array(c.line.utf8), number: 7, file: "mountinfo")
        #expect(entry.line == 7)
        #expect(entry.root == FilePath(c.root))
        #expect(entry.mountPoint == FilePath(c.mountPoint))
        #expect(entry.isMountPointDeleted == c.deleted)
        #expect(entry.optionalFields.map(\.description) == c.optional)
        #expect(entry.fileSystemType == c.fsType)
        #expect(entry.source == c.source)
        #expect(entry.superOptions == c.superOptions)
        #expect(entry.text == c.line)
    }

    @Test func optionalFieldTagsAndValues() throws {
        let entry = try MountInfo.parseLine(Array("36 35 98:0 / /m rw shared:5 master:1 propagate_from:2 unbindable - ext3 /dev/root rw".utf8), file: "f")
        #expect(entry.optionalFields == [
            OptionalField(tag: "shared", value: "5"), OptionalField(tag: "master", value: "1"),
            OptionalField(tag: "propagate_from", value: "2"), OptionalField(tag: "unbindable", value: nil),
        ])
        #expect(entry.device == DeviceNumber(major: 98, minor: 0))
    }

    @Test func exactSuperOptionTokens() throws {
        let entry = try MountInfo.parseLine(Array("40 25 0:35 / /sys/fs/cgroup/cpu_mirror rw - cgroup cgroup rw,name=cpu_mirror".utf8), file: "f")
        #expect(!entry.hasSuperOption("cpu"))
        #expect(entry.superOptionValue("name") == "cpu_mirror")
    }

    @Test func selectionKeepsOnlyWantedTypesButValidatesAll() {
        let text = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\nx 1 0:1 / /bad rw - tmpfs tmpfs rw\n3 1 0:2 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        let parsed = MountInfo.parse(Array(text.utf8), file: "mi", selecting: .fileSystemTypes(["cgroup2"]))
        #expect(parsed.entries.map(\.line) == [3])
        #expect(parsed.errors.map(\.line) == [2])
    }

    @Test func linesSplitOnNewlineOnlyAndNumberedFromOne() {
        let text = "\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\r\n2 1 0:1 / /a rw - tmpfs tmpfs rw"
        let parsed = MountInfo.parse(Array(text.utf8), file: "mi")
        #expect(parsed.entries.map(\.line) == [2, 3])
        #expect(parsed.entries[0].superOptions == ["rw\r"])  // the CR is data, not a line end
        #expect(parsed.errors.isEmpty)
    }

    struct BadLine: Sendable, CustomTestStringConvertible {
        let name: String
        let line: String
        let field: String
        var testDescription: String { name }
    }

    static let badLines: [BadLine] = [
        BadLine(name: "automaxprocsInvalidMountID", line: "1a 0 252:0 / / rw - ext4 /dev/dm-0 rw", field: "mount ID"),
        BadLine(name: "automaxprocsInvalidParentID", line: "1 0b 252:0 / / rw - ext4 /dev/dm-0 rw", field: "parent ID"),
        BadLine(name: "kubernetesAlphabetInMajor", line: "224 62 foo:0 / /x rw - ext4 /dev/sda rw", field: "major:minor"),
        BadLine(name: "kubernetesEmptyMinor", line: "224 62 253: / /x rw - ext4 /dev/sda rw", field: "major:minor"),
        BadLine(name: "automemlimitNoSeparator", line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw", field: "separator"),
        BadLine(name: "automaxprocsMissingSuperOptions", line: "1 0 252:0 / / rw,noatime shared:1 - ext4 /dev/dm-0", field: "separator"),
        BadLine(name: "mobyNotEnoughFields", line: "15 35 0:3 / /proc rw - proc", field: "line"),
        BadLine(name: "emptyFsType", line: "15 35 0:3 / /proc rw -  proc rw", field: "filesystem type"),
        BadLine(name: "goNulInMountPoint", line: "25 21 0:22 / /sys/\u{0}x rw - cgroup2 cgroup2 rw", field: "mount point"),
    ]

    @Test(arguments: badLines)
    func errorNamesFileLineFieldAndText(_ c: BadLine) {
        let text = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n" + c.line + "\n"
        let parsed = MountInfo.parse(Array(text.utf8), file: "/proc/4242/mountinfo")
        #expect(parsed.entries.count == 1)
        guard let error = parsed.errors.first else {
            Issue.record("\(c.name) was accepted")
            return
        }
        #expect(parsed.errors.count == 1)
        #expect(error.file == "/proc/4242/mountinfo")
        #expect(error.line == 2)
        #expect(error.field == c.field)
        #expect(error.text == c.line)
        #expect(error.description.hasPrefix("/proc/4242/mountinfo:2: field \"\(c.field)\": "))
    }

    @Test func emptyLineIsAnErrorForParseLine() {
        #expect(throws: ParseError.self) { try MountInfo.parseLine([], file: "f") }
    }

    struct EscapeCase: Sendable, CustomTestStringConvertible {
        let input: String
        let output: [UInt8]
        var testDescription: String { input }
    }

    /// `\ooo` up to 0377 decodes; anything else stays literally (docs/conformance.md, position 5).
    static let escapes: [EscapeCase] = [
        EscapeCase(input: #"a\040b"#, output: Array("a b".utf8)),
        EscapeCase(input: #"\011\012\134"#, output: [0x09, 0x0A, 0x5C]),
        EscapeCase(input: #"\12"#, output: Array(#"\12"#.utf8)),
        EscapeCase(input: #"\1"#, output: Array(#"\1"#.utf8)),
        EscapeCase(input: #"\400"#, output: Array(#"\400"#.utf8)),
        EscapeCase(input: #"\377"#, output: [0xFF]),
        EscapeCase(input: #"\x41"#, output: Array(#"\x41"#.utf8)),
        EscapeCase(input: #"/\1345"#, output: Array(#"/\5"#.utf8)),
        EscapeCase(input: #"end\"#, output: Array(#"end\"#.utf8)),
    ]

    @Test(arguments: escapes)
    func octalEscapes(_ c: EscapeCase) {
        var output: [UInt8] = []
        Array(c.input.utf8).withUnsafeBufferPointer { unescapeOctal($0, into: &output) }
        #expect(output == c.output)
    }
}
