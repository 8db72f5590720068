/// A YAML value as topogen writes it: scalars, sequences and mappings in block style, with
/// comments before sequence items. ``render(documents:header:)`` turns documents into text.
///
/// For example: `.mapping([("port", .int(1983)), ("name", .string("on"))])` renders as
/// `port: 1983` and `name: "on"`: strings that YAML would read as something else are quoted.
indirect enum YAMLNode: Hashable, Sendable {
    /// A string; quoted when a plain scalar would read as something else.
    case string(String)
    /// An integer.
    case int(Int)
    /// A sequence, each item with the comment lines written above it.
    case sequence([YAMLItem])
    /// A mapping, in the order given.
    case mapping([YAMLEntry])

    /// A sequence without comments.
    static func list(_ nodes: [YAMLNode]) -> YAMLNode {
        .sequence(nodes.map { YAMLItem(comments: [], node: $0) })
    }

    /// A mapping from key-value pairs, in order.
    static func map(_ pairs: KeyValuePairs<String, YAMLNode>) -> YAMLNode {
        .mapping(pairs.map { YAMLEntry(key: $0.key, value: $0.value) })
    }

    /// A mapping of strings, sorted by key.
    static func labels(_ labels: [String: String]) -> YAMLNode {
        .mapping(
            labels.sorted { $0.key < $1.key }.map {
                YAMLEntry(key: $0.key, value: .string($0.value))
            })
    }

    /// Renders a stream of documents, each started by `---` and its comment lines, after the
    /// header comment lines.
    static func render(documents: [(comments: [String], node: YAMLNode)], header: [String])
        -> String
    {
        var writer = YAMLWriter()
        for line in header { writer.comment(line, indent: 0) }
        for document in documents {
            writer.line("---")
            for line in document.comments { writer.comment(line, indent: 0) }
            writer.write(document.node, indent: 0)
        }
        return writer.text
    }

    /// Renders documents without comments.
    static func render(documents: [YAMLNode], header: [String]) -> String {
        render(documents: documents.map { (comments: [], node: $0) }, header: header)
    }
}

/// A sequence item with the comment lines written above it.
struct YAMLItem: Hashable, Sendable {
    var comments: [String]
    var node: YAMLNode
}

/// A mapping entry.
struct YAMLEntry: Hashable, Sendable {
    var key: String
    var value: YAMLNode
}

/// Writes ``YAMLNode`` values as block-style YAML, two spaces an indentation level, with
/// sequences indented under their key as the Kubernetes documentation writes them.
private struct YAMLWriter {
    /// The text so far; every piece is appended in place, without temporary strings.
    private(set) var text = ""

    init() {
        text.reserveCapacity(1 << 16)
    }

    private mutating func indent(_ count: Int) {
        text.appendSpaces(count)
    }

    mutating func line(_ content: String) {
        text += content
        text += "\n"
    }

    mutating func comment(_ comment: String, indent: Int) {
        let flattened = comment.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.indent(indent)
        text += flattened.isEmpty ? "#" : "# "
        text += flattened
        text += "\n"
    }

    /// Appends a scalar as ``YAMLScalar`` writes it.
    private mutating func scalar(_ node: YAMLNode) {
        switch node {
        case .int(let value): text += String(value)
        case .string: text += YAMLScalar.render(node)
        case .sequence, .mapping: break
        }
    }

    /// Writes a node that stands on its own lines at `indent`.
    mutating func write(_ node: YAMLNode, indent: Int) {
        switch node {
        case .string, .int:
            self.indent(indent)
            scalar(node)
            text += "\n"
        case .sequence(let items):
            if items.isEmpty {
                self.indent(indent)
                text += "[]\n"
            }
            for item in items { writeItem(item, indent: indent) }
        case .mapping(let entries):
            if entries.isEmpty {
                self.indent(indent)
                text += "{}\n"
            }
            for entry in entries {
                self.indent(indent)
                writeEntry(entry, indent: indent)
            }
        }
    }

    /// Writes `key: value` after what is already on the line; nested lines at `indent`.
    private mutating func writeEntry(_ entry: YAMLEntry, indent: Int) {
        text += YAMLScalar.render(.string(entry.key))
        switch entry.value {
        case .string, .int:
            text += ": "
            scalar(entry.value)
            text += "\n"
        case .sequence(let items) where items.isEmpty:
            text += ": []\n"
        case .mapping(let entries) where entries.isEmpty:
            text += ": {}\n"
        case .sequence, .mapping:
            text += ":\n"
            write(entry.value, indent: indent + 2)
        }
    }

    private mutating func writeItem(_ item: YAMLItem, indent: Int) {
        for comment in item.comments { self.comment(comment, indent: indent) }
        self.indent(indent)
        switch item.node {
        case .string, .int:
            text += "- "
            scalar(item.node)
            text += "\n"
        case .sequence(let items) where items.isEmpty:
            text += "- []\n"
        case .mapping(let entries) where entries.isEmpty:
            text += "- {}\n"
        case .sequence:
            text += "-\n"
            write(item.node, indent: indent + 2)
        case .mapping(let entries):
            text += "- "
            for (index, entry) in entries.enumerated() {
                if index > 0 { self.indent(indent + 2) }
                writeEntry(entry, indent: indent + 2)
            }
        }
    }
}

/// How a scalar is written: plain where YAML reads it back as the same string, double-quoted
/// otherwise.
enum YAMLScalar {
    /// Words that YAML 1.1 or 1.2 reads as booleans or null.
    private static let reserved: Set<String> = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ]

    static func render(_ node: YAMLNode) -> String {
        switch node {
        case .int(let value): String(value)
        case .string(let value): isPlainSafe(value) ? value : doubleQuoted(value)
        case .sequence, .mapping: ""
        }
    }

    /// Whether `value` can be written plain and read back as the same string.
    ///
    /// Deliberately conservative: only letters, digits and `._/-+=,()` and inner spaces; not a
    /// reserved word; not anything that starts like a number; not starting with an indicator.
    /// Checked byte by byte: every allowed character is ASCII.
    static func isPlainSafe(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            var previousSpace = false
            var hasSlashOrSpace = false
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                    UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: ","),
                    UInt8(ascii: "("), UInt8(ascii: ")"):
                    previousSpace = false
                case UInt8(ascii: "/"):
                    previousSpace = false
                    hasSlashOrSpace = true
                case UInt8(ascii: " "):
                    // Two spaces in a row fold differently in some readers.
                    if previousSpace { return false }
                    previousSpace = true
                    hasSlashOrSpace = true
                default:
                    return false
                }
            }
            switch first {
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: "("), UInt8(ascii: ")"):
                return false
            default: break
            }
            if last == UInt8(ascii: " ") { return false }
            if bytes.count <= 5, reserved.contains(String(decoding: bytes, as: UTF8.self)) {
                return false
            }
            // Anything that starts with a digit and has no letter-free separator could be a
            // number (1983, 1e5, 0x1F, 0o17, 1_000, 12.5): quote it unless it holds a '/' or a
            // space, which no YAML number does.
            if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") { return hasSlashOrSpace }
            return true
        }
    }

    static func doubleQuoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result +=
                        "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
