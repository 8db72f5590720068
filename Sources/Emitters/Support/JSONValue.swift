/// A JSON value as topogen writes it: objects keep the order they are given, and the text is
/// indented by four spaces as the AWS CLI prints JSON, so the same value gives the same bytes.
///
/// For example: `.object([("FromPort", .number(443)), ("IpRanges", .array([]))])` renders as
///
/// ```json
/// {
///     "FromPort": 443,
///     "IpRanges": []
/// }
/// ```
indirect enum JSONValue: Hashable, Sendable {
    case string(String)
    case number(Int)
    case array([JSONValue])
    case object([JSONMember])

    /// An object from key-value pairs, in order.
    static func map(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { JSONMember(key: $0.key, value: $0.value) })
    }

    /// The value as indented text, without a final newline.
    func rendered(indent: Int = 0) -> String {
        var text = ""
        write(into: &text, indent: indent)
        return text
    }

    /// Appends the value as indented text to `text`, which is faster than joining the texts of
    /// the parts when a document holds tens of thousands of rules.
    private func write(into text: inout String, indent: Int) {
        switch self {
        case .string(let value): Self.appendQuoted(value, to: &text)
        case .number(let value): text += String(value)
        case .array(let values):
            guard !values.isEmpty else {
                text += "[]"
                return
            }
            text += "[\n"
            for (index, value) in values.enumerated() {
                if index > 0 { text += ",\n" }
                Self.appendIndent(indent + 4, to: &text)
                value.write(into: &text, indent: indent + 4)
            }
            text += "\n"
            Self.appendIndent(indent, to: &text)
            text += "]"
        case .object(let members):
            guard !members.isEmpty else {
                text += "{}"
                return
            }
            text += "{\n"
            for (index, member) in members.enumerated() {
                if index > 0 { text += ",\n" }
                Self.appendIndent(indent + 4, to: &text)
                Self.appendQuoted(member.key, to: &text)
                text += ": "
                member.value.write(into: &text, indent: indent + 4)
            }
            text += "\n"
            Self.appendIndent(indent, to: &text)
            text += "}"
        }
    }

    private static func appendIndent(_ width: Int, to text: inout String) {
        text.appendSpaces(width)
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; with
    /// `escapingHTML`, also `<`, `>` and `&`, as Terraform's `jsonencode` writes them.
    static func quoted(_ text: String, escapingHTML: Bool = false) -> String {
        var result = ""
        appendQuoted(text, escapingHTML: escapingHTML, to: &result)
        return result
    }

    /// Appends `text` as a JSON string literal (see ``quoted(_:escapingHTML:)``).
    private static func appendQuoted(
        _ text: String, escapingHTML: Bool = false, to result: inout String
    ) {
        func isPlain(_ byte: UInt8) -> Bool {
            byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
                && !(escapingHTML
                    && (byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
                        || byte == UInt8(ascii: "&")))
        }
        let plain = text.utf8AllSatisfy(isPlain)
        result += "\""
        guard !plain else {
            result += text
            result += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "<" where escapingHTML: result += "\\u003c"
            case ">" where escapingHTML: result += "\\u003e"
            case "&" where escapingHTML: result += "\\u0026"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        result += "\""
    }
}

/// A member of a JSON object.
struct JSONMember: Hashable, Sendable {
    var key: String
    var value: JSONValue
}
