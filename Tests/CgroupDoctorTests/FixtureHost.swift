import CgroupDoctor
import SystemPackage

/// Fixture hosts: directories laid out like a host's /proc, replayed through the same Sysroot and
/// scanner as a live host. Each has a README.md saying where its bytes came from.
enum FixtureHost {
    static let directory: FilePath = {
        var path = FilePath(#filePath)
        path.removeLastComponent()
        return path.appending("Fixtures").appending("hosts")
    }()

    static func sysroot(_ name: String) -> Sysroot { Sysroot(directory.appending(name)) }

    static func scanner(_ name: String, runtimePID: Int32 = 1) -> HostScanner {
        HostScanner(sysroot: sysroot(name), referencePID: runtimePID)
    }
}
