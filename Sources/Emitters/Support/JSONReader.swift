/// Reads JSON text (RFC 8259) into a ``YAMLValue``, byte by byte, with the lines a YAML reading
/// of the same text would give: JSON is YAML 1.2, and both readers agree on what a document
/// says and where.
///
/// For example, `JSONReader.value("{\n  \"ports\": [443, 1.5e3],\n  \"on\": true\n}")` is a
/// mapping from line 1 whose entry `ports` (line 2) holds the sequence `[.int(443),
/// .int(1500)]` and whose entry `on` (line 3) is `.bool(true)`.
///
/// Mappings keep document order; a duplicate key is refused, as ``YAMLReader`` refuses it. One
/// difference from YAML's core schema: a whole number is an integer however it is written
/// (`1e3`, `1.0`, `-0`), as Kubernetes' JSON decoding reads it into an integer field; `1.5` is a
/// float.
///
/// What it refuses, with the line and the column: anything that is not JSON (a trailing comma,
/// a single quote, a comment, a leading zero, a raw control character in a string, an unpaired
/// surrogate), text after the value, a duplicate key, a number that does not fit (an integer
/// beyond 64 bits, a float beyond `Double`), and collections nested deeper than 200 levels,
/// as ``YAMLReader`` does.
enum JSONReader {
    /// Reads one JSON value (surrounding white space allowed, a byte order mark skipped).
    ///
    /// - Throws: ``YAMLError`` at the first problem, its message starting `invalid JSON: `
    ///   when the text is not JSON.
    static func value(_ text: String) throws(YAMLError) -> YAMLValue {
        var text = text
        let result = text.withUTF8 { bytes in
            var parser = JSONParser(bytes: bytes)
            return Result { () throws(YAMLError) in try parser.document() }
        }
        return try result.get()
    }
}

/// One reading of a JSON text: the bytes and where the reading is in them.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The index of the next byte to read.
    var pos = 0
    /// The 1-based line of `pos`.
    var line = 1
    /// The index of the first byte of that line.
    var lineStart = 0
    /// How many collections enclose `pos`.
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The byte at the position, or 0 at the end (a 0 in the text is refused wherever it is).
    @inline(__always) var current: UInt8 { pos < bytes.count ? bytes[pos] : 0 }

    mutating func document() throws(YAMLError) -> YAMLValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            pos = 3
            lineStart = 3
        }
        skipWhiteSpace()
        let value = try self.value()
        skipWhiteSpace()
        guard pos >= bytes.count else { throw unexpected("after the value") }
        return value
    }

    /// Moves past spaces, tabs and line breaks (LF, CR and CRLF), counting lines.
    @inline(__always) mutating func skipWhiteSpace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                pos += 1
            case UInt8(ascii: "\n"):
                pos += 1
                line += 1
                lineStart = pos
            case UInt8(ascii: "\r"):
                pos += 1
                if current == UInt8(ascii: "\n") { pos += 1 }
                line += 1
                lineStart = pos
            default:
                return
            }
        }
    }

    mutating func value() throws(YAMLError) -> YAMLValue {
        let valueLine = line
        switch current {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return YAMLValue(.string(try string()), line: valueLine)
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return YAMLValue(try number(), line: valueLine)
        default:
            throw unexpected(pos >= bytes.count ? "where a value should be" : "")
        }
    }

    mutating func literal(_ word: StaticString, _ kind: YAMLValue.Kind) throws(YAMLError)
        -> YAMLValue
    {
        let valueLine = line
        let count = word.utf8CodeUnitCount
        var index = 0
        while index < count {
            guard current == word.utf8Start[index] else { throw unexpected("") }
            pos += 1
            index += 1
        }
        return YAMLValue(kind, line: valueLine)
    }

    mutating func enter() throws(YAMLError) {
        depth += 1
        guard depth <= YAMLParser.maximumDepth else {
            throw error("collections are nested deeper than \(YAMLParser.maximumDepth) levels")
        }
    }

    mutating func object() throws(YAMLError) -> YAMLValue {
        let objectLine = line
        try enter()
        pos += 1
        var entries: [YAMLValue.Entry] = []
        var keys = KeySet()
        skipWhiteSpace()
        if current == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return YAMLValue(.mapping(entries), line: objectLine)
        }
        while true {
            guard current == UInt8(ascii: "\"") else {
                throw unexpected("where a key (a string in double quotes) should be")
            }
            let keyLine = line
            let keyColumn = self.column(of: pos)
            let key = try string()
            if let first = keys.insert(key, line: keyLine) {
                throw YAMLError(
                    line: keyLine, column: keyColumn,
                    message: "duplicate key '\(key)' (first on line \(first))")
            }
            skipWhiteSpace()
            guard current == UInt8(ascii: ":") else { throw unexpected("where ':' should be") }
            pos += 1
            skipWhiteSpace()
            entries.append(YAMLValue.Entry(key: key, keyLine: keyLine, value: try value()))
            skipWhiteSpace()
            switch current {
            case UInt8(ascii: ","):
                pos += 1
                skipWhiteSpace()
            case UInt8(ascii: "}"):
                pos += 1
                depth -= 1
                return YAMLValue(.mapping(entries), line: objectLine)
            default:
                throw unexpected("where ',' or '}' should be")
            }
        }
    }

    mutating func array() throws(YAMLError) -> YAMLValue {
        let arrayLine = line
        try enter()
        pos += 1
        var items: [YAMLValue] = []
        skipWhiteSpace()
        if current == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return YAMLValue(.sequence(items), line: arrayLine)
        }
        while true {
            items.append(try value())
            skipWhiteSpace()
            switch current {
            case UInt8(ascii: ","):
                pos += 1
                skipWhiteSpace()
            case UInt8(ascii: "]"):
                pos += 1
                depth -= 1
                return YAMLValue(.sequence(items), line: arrayLine)
            default:
                throw unexpected("where ',' or ']' should be")
            }
        }
    }

    /// A string, from its opening quote past its closing one.
    mutating func string() throws(YAMLError) -> String {
        pos += 1
        let start = pos
        // Most strings have no escape: one scan, one copy.
        while pos < bytes.count {
            let byte = bytes[pos]
            if byte == UInt8(ascii: "\"") {
                let text = String(
                    decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            pos += 1
        }
        var scalars = Array(bytes[start..<pos])
        while true {
            guard pos < bytes.count else { throw error("invalid JSON: unterminated string") }
            let byte = bytes[pos]
            switch byte {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                pos += 1
                try escape(into: &scalars)
            case ..<0x20:
                throw error(
                    "invalid JSON: a control character (U+\(hex(UInt32(byte)))) in a string; "
                        + "write it as an escape")
            default:
                scalars.append(byte)
                pos += 1
            }
        }
    }

    /// The escape after a backslash, appended as UTF-8.
    mutating func escape(into scalars: inout [UInt8]) throws(YAMLError) {
        let escapeStart = pos - 1
        let simple: UInt8
        switch current {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            pos += 1
            var value = try hexQuad(escapeStart)
            if (0xD800...0xDBFF).contains(value) {
                guard current == UInt8(ascii: "\\"), pos + 1 < bytes.count,
                    bytes[pos + 1] == UInt8(ascii: "u")
                else { throw unpairedSurrogate(escapeStart) }
                pos += 2
                let low = try hexQuad(escapeStart)
                guard (0xDC00...0xDFFF).contains(low) else { throw unpairedSurrogate(escapeStart) }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(value) {
                throw unpairedSurrogate(escapeStart)
            }
            guard let scalar = Unicode.Scalar(value) else { throw unpairedSurrogate(escapeStart) }
            scalars.append(contentsOf: String(Character(scalar)).utf8)
            return
        default:
            throw error(
                "invalid JSON: '\\\(pos < bytes.count ? String(decoding: [current], as: UTF8.self) : "")' "
                    + "is not an escape of JSON",
                at: escapeStart)
        }
        scalars.append(simple)
        pos += 1
    }

    /// Four hexadecimal digits of a `\u` escape.
    mutating func hexQuad(_ escapeStart: Int) throws(YAMLError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let digit: UInt32
            switch current {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(current - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"):
                digit = UInt32(current - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"):
                digit = UInt32(current - UInt8(ascii: "A") + 10)
            default:
                throw error("invalid JSON: '\\u' takes four hexadecimal digits", at: escapeStart)
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    func unpairedSurrogate(_ escapeStart: Int) -> YAMLError {
        error("invalid JSON: a '\\u' escape of half a surrogate pair", at: escapeStart)
    }

    /// A number as JSON writes it: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
    mutating func number() throws(YAMLError) -> YAMLValue.Kind {
        let start = pos
        var isInteger = true
        if current == UInt8(ascii: "-") { pos += 1 }
        if current == UInt8(ascii: "0") {
            pos += 1
            if isDigit(current) {
                throw error("invalid JSON: a number has a leading zero", at: start)
            }
        } else {
            guard isDigit(current) else { throw unexpected("in a number") }
            while isDigit(current) { pos += 1 }
        }
        if current == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard isDigit(current) else { throw unexpected("where a digit should be") }
            while isDigit(current) { pos += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(current) else { throw unexpected("where a digit should be") }
            while isDigit(current) { pos += 1 }
        }
        if isInteger, let int = integer(start..<pos) {
            return .int(int)
        }
        let text = String(
            decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw error("the number '\(text)' does not fit in a 64-bit float", at: start)
        }
        if double.rounded() == double {
            guard abs(double) < 0x1p63 else {
                throw error("the integer '\(text)' does not fit in 64 bits", at: start)
            }
            return .int(Int(double))
        }
        return .double(double)
    }

    /// The integer of `-?[0-9]+` in `range`, nil when it overflows `Int`.
    func integer(_ range: Range<Int>) -> Int? {
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var value = 0
        while index < range.upperBound {
            let digit = Int(bytes[index] - UInt8(ascii: "0"))
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) =
                negative
                ? times10.subtractingReportingOverflow(digit)
                : times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return value
    }

    @inline(__always) func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: - Messages

    /// `invalid JSON: unexpected 'x' <context>`, or the end of the text.
    func unexpected(_ context: String) -> YAMLError {
        let what: String
        if pos >= bytes.count {
            what = "unexpected end of text"
        } else {
            var end = pos + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            let character = String(
                decoding: UnsafeBufferPointer(rebasing: bytes[pos..<end]), as: UTF8.self)
            let shown = bytes[pos] < 0x20 ? "U+\(hex(UInt32(bytes[pos])))" : "'\(character)'"
            what = "unexpected \(shown)"
        }
        return error("invalid JSON: \(what)\(context.isEmpty ? "" : " \(context)")")
    }

    /// An error at `index` (by default the position), with its column in Unicode scalars.
    func error(_ message: String, at index: Int? = nil) -> YAMLError {
        let index = index ?? pos
        return YAMLError(line: line, column: column(of: index), message: message)
    }

    /// The 1-based column of `index` on the current line, in Unicode scalars.
    func column(of index: Int) -> Int {
        var column = 1
        var scan = lineStart
        while scan < min(index, bytes.count) {
            if bytes[scan] & 0xC0 != 0x80 { column += 1 }
            scan += 1
        }
        return column
    }

    func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
