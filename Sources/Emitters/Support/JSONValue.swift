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
        let inner = String(repeating: " ", count: indent + 4)
        let outer = String(repeating: " ", count: indent)
        switch self {
        case .string(let text): return Self.quoted(text)
        case .number(let value): return String(value)
        case .array(let values):
            guard !values.isEmpty else { return "[]" }
            let items = values.map { inner + $0.rendered(indent: indent + 4) }
            return "[\n" + items.joined(separator: ",\n") + "\n" + outer + "]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            let items = members.map {
                inner + Self.quoted($0.key) + ": " + $0.value.rendered(indent: indent + 4)
            }
            return "{\n" + items.joined(separator: ",\n") + "\n" + outer + "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; with
    /// `escapingHTML`, also `<`, `>` and `&`, as Terraform's `jsonencode` writes them.
    static func quoted(_ text: String, escapingHTML: Bool = false) -> String {
        var result = "\""
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
        return result + "\""
    }
}

/// A member of a JSON object.
struct JSONMember: Hashable, Sendable {
    var key: String
    var value: JSONValue
}
