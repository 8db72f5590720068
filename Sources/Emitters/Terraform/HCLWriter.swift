/// Writes HCL as `terraform fmt` does: two spaces an indentation level, and the `=` of
/// consecutive one-line attributes aligned to the longest name among them. A blank line, a
/// nested block or a multi-line value ends a run of aligned attributes.
///
/// For example: `attributes([("source", "\"hashicorp/aws\""), ("version", "\">= 5.0\"")])`
/// writes `source  = "hashicorp/aws"` and `version = ">= 5.0"`.
struct HCLWriter {
    private(set) var lines: [String] = []
    private var depth = 0

    private var indent: String { String(repeating: "  ", count: depth) }

    /// A line as it is, at the current indentation.
    mutating func line(_ text: String) {
        lines.append(text.isEmpty ? "" : indent + text)
    }

    /// A blank line.
    mutating func blank() { lines.append("") }

    /// One-line attributes, aligned.
    mutating func attributes(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (name, value) in pairs {
            line(name + String(repeating: " ", count: width - name.count) + " = " + value)
        }
    }

    /// `header {`, the body one level in, then `}`.
    mutating func block(_ header: String, _ body: (inout HCLWriter) -> Void) {
        line(header + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// The text, ending with one newline.
    var text: String { lines.joined(separator: "\n") + "\n" }

    /// A string literal: quotes, backslashes and `${`/`%{` escaped.
    static func quoted(_ text: String) -> String {
        // Most strings hold nothing to escape: they are quoted as they are.
        func isPlain(_ byte: UInt8) -> Bool {
            byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "\n")
                && byte != UInt8(ascii: "{")
        }
        let plain =
            text.utf8AllSatisfy(isPlain)
        if plain { return "\"" + text + "\"" }
        var result = "\""
        var previous: Character?
        for character in text {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "{" where previous == "$" || previous == "%":
                result.removeLast()
                result += "\(previous.map(String.init) ?? "")\(previous.map(String.init) ?? ""){"
            default: result.append(character)
            }
            previous = character
        }
        return result + "\""
    }
}
