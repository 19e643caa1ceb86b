/// A line of a kernel file that a parser rejected.
///
/// It names the file, the 1-based line, the field and the offending text, so a report can quote it:
/// `/proc/4242/mountinfo:3: field "mount ID": expected a decimal number, got "x": "x 1 0:1 / / rw - ext4 /dev/sda rw"`.
public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file the bytes came from, as given by the caller (parsers never open files).
    public var file: String
    /// 1-based line number within `file`.
    public var line: Int
    /// The field that failed, named as in the man page ("mount ID", "hierarchy ID", "separator").
    public var field: String
    /// What was wrong with it.
    public var reason: String
    /// The whole offending line, decoded leniently (invalid UTF-8 becomes U+FFFD).
    public var text: String

    public init(file: String, line: Int, field: String, reason: String, text: String) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        self.text = text
    }

    public var description: String {
        "\(file):\(line): field \"\(field)\": \(reason): \"\(text)\""
    }
}
