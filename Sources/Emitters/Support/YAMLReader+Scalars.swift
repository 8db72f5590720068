/// Scalars for ``YAMLParser``: the text itself, plain, quoted and block scalars, and the YAML 1.2
/// core schema that gives plain scalars their kind.
extension YAMLParser {
    // MARK: - The text

    /// The UTF-8 of `text` without a leading byte order mark, CRLF and CR turned into LF.
    ///
    /// - Throws: On a character YAML does not allow in a stream (a control character other than
    ///   tab and line breaks, DEL, a C1 control, U+FFFE, U+FFFF), and on the line separators
    ///   U+0085, U+2028 and U+2029, which YAML 1.1 parsers break lines at and YAML 1.2 parsers do
    ///   not: a reader that keeps them could disagree with the cluster's.
    static func normalized(_ text: String) throws(YAMLError) -> [UInt8] {
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var line = 1
        var lineStart = 0
        var hasCarriageReturn = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            var refused: String?
            switch byte {
            case 0x20...0x7E, 0x09:
                break
            case 0x0A:
                line += 1
                lineStart = index + 1
            case 0x0D:
                hasCarriageReturn = true
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                line += 1
                lineStart = index + 1
            case 0xC2 where index + 1 < bytes.count && (0x80...0x9F).contains(bytes[index + 1]):
                refused = "U+00" + hex(bytes[index + 1])
            case 0xE2
            where index + 2 < bytes.count && bytes[index + 1] == 0x80
                && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                refused = "U+20" + hex(bytes[index + 2] - 0x80)
            case 0xEF
            where index + 2 < bytes.count && bytes[index + 1] == 0xBF
                && bytes[index + 2] >= 0xBE:
                refused = "U+FF" + hex(bytes[index + 2] + 0x40)
            case 0x80...:
                break
            default:
                refused = "U+00" + hex(byte)
            }
            if let refused {
                let column = 1 + bytes[lineStart..<index].count { $0 & 0xC0 != 0x80 }
                throw YAMLError(
                    line: line, column: column,
                    message: "the character \(refused) is not allowed in YAML text; write it as "
                        + "an escape in a double-quoted scalar")
            }
            index += 1
        }
        guard hasCarriageReturn else { return bytes }
        var normalized: [UInt8] = []
        normalized.reserveCapacity(bytes.count)
        index = 0
        while index < bytes.count {
            if bytes[index] == 0x0D {
                normalized.append(0x0A)
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
            } else {
                normalized.append(bytes[index])
            }
            index += 1
        }
        return normalized
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }

    // MARK: - Plain scalars

    /// Why a plain scalar's text on one line ended.
    enum PlainStop {
        /// At the end of the line or of the text.
        case lineEnd
        /// At the `#` of a comment.
        case comment
        /// At a `:` followed by white space or a line break (or a flow indicator in a flow
        /// collection): the scalar is a key.
        case colon
        /// At `,`, `[`, `]`, `{` or `}` in a flow collection.
        case flowIndicator
    }

    /// The text of a plain scalar on one line: bytes `start..<end`, without trailing white space.
    struct PlainSegment {
        var start: Int
        var end: Int
        var stop: PlainStop
    }

    /// Scans a plain scalar's text from the position to the end of its line; returns at the
    /// stop (the line break, `#`, `:` or flow indicator).
    mutating func scanPlain(flow: Bool) -> PlainSegment {
        let start = pos
        var end = pos
        while true {
            let byte = current
            switch byte {
            case 0, UInt8(ascii: "\n"):
                return PlainSegment(start: start, end: end, stop: .lineEnd)
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                pos += 1
                if current == UInt8(ascii: "#") {
                    return PlainSegment(start: start, end: end, stop: .comment)
                }
            case UInt8(ascii: ":"):
                let next = self.byte(pos + 1)
                if Self.isBlankOrEnd(next) || (flow && Self.isFlowIndicator(next)) {
                    return PlainSegment(start: start, end: end, stop: .colon)
                }
                pos += 1
                end = pos
            case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
                UInt8(ascii: "}"):
                if flow { return PlainSegment(start: start, end: end, stop: .flowIndicator) }
                pos += 1
                end = pos
            default:
                pos += 1
                end = pos
            }
        }
    }

    /// A plain scalar in a block collection at column `parent`, its first line scanned: it goes
    /// on over the following lines indented more than `parent`, each line break folded into a
    /// space and each blank line kept as a line feed. Returns at the next content.
    mutating func plainBlockScalar(
        first: PlainSegment, parent: Int, start: Mark
    ) throws(YAMLError) -> YAMLValue {
        // The text of several lines, folded; empty while there is only the first.
        var folded: [UInt8] = []
        var segment = first
        while segment.stop == .lineEnd, !atEnd {
            let saved = (pos, line, lineStart)
            newline()
            var breaks = 0
            var continues = false
            while true {
                var index = pos
                while byte(index) == UInt8(ascii: " ") { index += 1 }
                let indent = index - lineStart
                let tabbed = byte(index) == UInt8(ascii: "\t")
                while Self.isWhite(byte(index)) { index += 1 }
                let byte = byte(index)
                if byte == UInt8(ascii: "\n") {
                    pos = index
                    newline()
                    breaks += 1
                    continue
                }
                continues =
                    byte != 0 && !tabbed && byte != UInt8(ascii: "#") && indent > parent
                    && !(indent == 0 && isDocumentMarker(at: index))
                if continues { pos = index }
                break
            }
            guard continues else {
                (pos, line, lineStart) = saved
                break
            }
            let next = scanPlain(flow: false)
            if next.stop == .colon {
                throw error(
                    "unexpected ': ' in a plain scalar that starts on line \(start.line); quote a "
                        + "value that contains ': ', and check the indentation")
            }
            fold(&folded, first: first, breaks: breaks, next: next)
            segment = next
        }
        let value = try plainValue(folded, segment: first, at: start)
        try endValue(after: "the value")
        return value
    }

    /// A plain scalar inside a flow collection, at the position: it may go on over the following
    /// lines, up to a flow indicator, `: ` or a comment.
    mutating func plainFlowScalar(start: Mark, in collection: Mark) throws(YAMLError) -> FlowNode {
        // The text of several lines, folded; empty while there is only the first.
        var folded: [UInt8] = []
        let first = scanPlain(flow: true)
        var segment = first
        while segment.stop == .lineEnd, !atEnd {
            let saved = (pos, line, lineStart)
            newline()
            var breaks = 0
            while true {
                skipWhite()
                guard current == UInt8(ascii: "\n") else { break }
                newline()
                breaks += 1
            }
            let next = byte(pos + 1)
            if atEnd || (column == 0 && isDocumentMarker(at: pos))
                || current == UInt8(ascii: "#") || Self.isFlowIndicator(current)
                || (current == UInt8(ascii: ":")
                    && (Self.isBlankOrEnd(next) || Self.isFlowIndicator(next)))
            {
                (pos, line, lineStart) = saved
                break
            }
            try checkContinuation(of: collection)
            let following = scanPlain(flow: true)
            fold(&folded, first: first, breaks: breaks, next: following)
            segment = following
        }
        let value = try plainValue(folded, segment: first, at: start)
        let text = folded.isEmpty ? bytes[first.start..<first.end] : folded[...]
        let isMerge = text.count == 2 && text.allSatisfy { $0 == UInt8(ascii: "<") }
        return FlowNode(
            value: value, key: Self.keyText(value.kind), isJSONLike: false, isMerge: isMerge)
    }

    /// Adds the next line of a plain scalar to `folded` (started with the first line): a space
    /// for a single line break, a line feed for each blank line.
    func fold(_ folded: inout [UInt8], first: PlainSegment, breaks: Int, next: PlainSegment) {
        if folded.isEmpty { folded.append(contentsOf: bytes[first.start..<first.end]) }
        if breaks == 0 {
            folded.append(UInt8(ascii: " "))
        } else {
            folded.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: breaks))
        }
        folded.append(contentsOf: bytes[next.start..<next.end])
    }

    /// The value of a plain scalar: the folded text of several lines, or else the first line.
    func plainValue(
        _ folded: [UInt8], segment: PlainSegment, at start: Mark
    ) throws(YAMLError) -> YAMLValue {
        let text = folded.isEmpty ? bytes[segment.start..<segment.end] : folded[...]
        guard let kind = Self.resolvePlain(text) else { throw integerTooLarge(text, at: start) }
        return YAMLValue(kind, line: start.line)
    }

    func integerTooLarge(_ text: ArraySlice<UInt8>, at start: Mark) -> YAMLError {
        error(
            "the integer '\(String(decoding: text, as: UTF8.self))' does not fit in 64 bits; "
                + "quote it if it is a string", at: start)
    }

    // MARK: - Quoted scalars

    /// A single- or double-quoted scalar whose quote is at the position; returns after the
    /// closing quote. Line breaks fold as in plain scalars, the white space around them dropped.
    mutating func quotedScalar() throws(YAMLError) -> String {
        let start = mark
        let quote = current
        let isDouble = quote == UInt8(ascii: "\"")
        pos += 1
        var text: [UInt8] = []
        var segment = pos
        while true {
            let byte = current
            if byte == quote {
                if !isDouble, self.byte(pos + 1) == quote {
                    text.append(contentsOf: bytes[segment...pos])
                    pos += 2
                    segment = pos
                    continue
                }
                text.append(contentsOf: bytes[segment..<pos])
                pos += 1
                return String(decoding: text, as: UTF8.self)
            }
            switch byte {
            case 0:
                throw error(
                    "the \(isDouble ? "double" : "single")-quoted scalar that starts here is never "
                        + "closed", at: start)
            case UInt8(ascii: "\\") where isDouble:
                text.append(contentsOf: bytes[segment..<pos])
                try escape(into: &text, scalar: start)
                segment = pos
            case UInt8(ascii: "\n"):
                var end = pos
                while end > segment, Self.isWhite(bytes[end - 1]) { end -= 1 }
                text.append(contentsOf: bytes[segment..<end])
                try foldQuotedBreak(into: &text, scalar: start, escaped: false)
                segment = pos
            default:
                pos += 1
            }
        }
    }

    /// Past a line break in a quoted scalar, the blank lines after it and the white space that
    /// starts the next line: adds a space for a single break (nothing after an escaped break),
    /// or a line feed for each blank line.
    mutating func foldQuotedBreak(
        into text: inout [UInt8], scalar: Mark, escaped: Bool
    ) throws(YAMLError) {
        newline()
        var breaks = 0
        while true {
            if isDocumentMarker(at: pos) {
                let kind = byte(scalar.position) == UInt8(ascii: "\"") ? "double" : "single"
                throw error(
                    "the \(kind)-quoted scalar that starts here is never closed", at: scalar)
            }
            skipWhite()
            guard current == UInt8(ascii: "\n") else { break }
            newline()
            breaks += 1
        }
        if !atEnd, current != byte(scalar.position) { try checkContinuation(of: scalar) }
        if breaks > 0 {
            text.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: breaks))
        } else if !escaped {
            text.append(UInt8(ascii: " "))
        }
    }

    /// The escape sequence whose `\` is at the position, in the double-quoted scalar that starts
    /// at `scalar`.
    mutating func escape(into text: inout [UInt8], scalar: Mark) throws(YAMLError) {
        let start = mark
        pos += 1
        let code = current
        var value: UInt32
        var digits = 0
        switch code {
        case 0:
            throw error("the double-quoted scalar that starts here is never closed", at: scalar)
        case UInt8(ascii: "\n"):
            try foldQuotedBreak(into: &text, scalar: scalar, escaped: true)
            return
        case UInt8(ascii: "0"): value = 0
        case UInt8(ascii: "a"): value = 0x07
        case UInt8(ascii: "b"): value = 0x08
        case UInt8(ascii: "t"), UInt8(ascii: "\t"): value = 0x09
        case UInt8(ascii: "n"): value = 0x0A
        case UInt8(ascii: "v"): value = 0x0B
        case UInt8(ascii: "f"): value = 0x0C
        case UInt8(ascii: "r"): value = 0x0D
        case UInt8(ascii: "e"): value = 0x1B
        case UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"):
            value = UInt32(code)
        case UInt8(ascii: "N"): value = 0x85
        case UInt8(ascii: "_"): value = 0xA0
        case UInt8(ascii: "L"): value = 0x2028
        case UInt8(ascii: "P"): value = 0x2029
        case UInt8(ascii: "x"):
            value = 0
            digits = 2
        case UInt8(ascii: "u"):
            value = 0
            digits = 4
        case UInt8(ascii: "U"):
            value = 0
            digits = 8
        default:
            let escaped = String(snippet(from: start.position).prefix(2))
            throw error(
                "unknown escape '\(escaped)' in a double-quoted scalar; write '\\\\' for a "
                    + "backslash", at: start)
        }
        pos += 1
        for _ in 0..<digits {
            guard let digit = Self.hexValue(current) else {
                throw error(
                    "the escape '\\\(String(decoding: [code], as: UTF8.self))' needs \(digits) "
                        + "hexadecimal digits", at: start)
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        // JSON writes a character beyond U+FFFF as two escapes, a UTF-16 surrogate pair.
        if code == UInt8(ascii: "u"), (0xD800...0xDBFF).contains(value),
            let low = lowSurrogate(at: pos)
        {
            value = 0x10000 + (value - 0xD800) << 10 + (low - 0xDC00)
            pos += 6
        }
        guard let unicode = Unicode.Scalar(value) else {
            let escaped = String(decoding: bytes[start.position..<pos], as: UTF8.self)
            throw error("the escape '\(escaped)' is not a Unicode scalar value", at: start)
        }
        UTF8.encode(unicode) { text.append($0) }
    }

    /// The low surrogate that `\uDC00` to `\uDFFF` at `index` escapes, if any.
    func lowSurrogate(at index: Int) -> UInt32? {
        guard byte(index) == UInt8(ascii: "\\"), byte(index + 1) == UInt8(ascii: "u") else {
            return nil
        }
        var value: UInt32 = 0
        for offset in 2..<6 {
            guard let digit = Self.hexValue(byte(index + offset)) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return (0xDC00...0xDFFF).contains(value) ? value : nil
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: - Block scalars

    /// A literal (`|`) or folded (`>`) block scalar whose indicator is at the position, in a
    /// block collection at column `parent`; returns at the start of the first line after it.
    ///
    /// Content lines, their indentation (detected from the first non-blank line, or `parent`
    /// plus the indentation indicator), folding and chomping follow libyaml, which the YAML
    /// parsers of PyYAML and Go (kubectl's) port: a line with more spaces than the indentation
    /// is content, even when blank.
    mutating func blockScalar(parent: Int) throws(YAMLError) -> YAMLValue {
        let start = mark
        let isFolded = current == UInt8(ascii: ">")
        pos += 1
        var chomping: UInt8?
        var increment: Int?
        for _ in 0..<2 {
            let byte = current
            if chomping == nil, byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
                chomping = byte
            } else if increment == nil, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(byte) {
                increment = Int(byte - UInt8(ascii: "0"))
            } else if byte == UInt8(ascii: "0") {
                throw error("the indentation indicator of a block scalar must be 1 to 9")
            } else {
                break
            }
            pos += 1
        }
        let indicator = String(decoding: bytes[start.position..<pos], as: UTF8.self)
        try finishLine(after: "the block scalar indicator '\(indicator)'")
        let minimumIndent = max(parent + 1, 1)
        var indent: Int
        var breaks = 0
        if let increment {
            indent = minimumIndent + increment - 1
            breaks = skipBlockScalarBreaks(indent: indent)
        } else {
            var widest = 0
            while true {
                var index = pos
                while byte(index) == UInt8(ascii: " ") { index += 1 }
                widest = max(widest, index - lineStart)
                pos = index
                guard current == UInt8(ascii: "\n") else { break }
                newline()
                breaks += 1
            }
            indent = max(minimumIndent, widest)
            if !atEnd, column >= minimumIndent, column < indent {
                throw error(
                    "a blank line before the first line of this block scalar has more spaces "
                        + "than that line; remove them", at: start)
            }
        }
        var text: [UInt8] = []
        var endsWithBreak = false
        while column == indent, !atEnd {
            text.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: breaks))
            let startsWithText = !Self.isWhite(current)
            let contentStart = pos
            while current != UInt8(ascii: "\n"), !atEnd { pos += 1 }
            text.append(contentsOf: bytes[contentStart..<pos])
            endsWithBreak = !atEnd
            if endsWithBreak { newline() }
            breaks = skipBlockScalarBreaks(indent: indent)
            guard column == indent, !atEnd else { break }
            if isFolded, endsWithBreak, startsWithText, !Self.isWhite(current) {
                if breaks == 0 { text.append(UInt8(ascii: " ")) }
            } else if endsWithBreak {
                text.append(UInt8(ascii: "\n"))
            }
        }
        switch chomping {
        case UInt8(ascii: "-"):
            break
        case UInt8(ascii: "+"):
            if endsWithBreak { text.append(UInt8(ascii: "\n")) }
            text.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: breaks))
        default:
            if endsWithBreak { text.append(UInt8(ascii: "\n")) }
        }
        // Back to the start of the line that ended the scalar, for nextContent().
        if !atEnd { pos = lineStart }
        return YAMLValue(.string(String(decoding: text, as: UTF8.self)), line: start.line)
    }

    /// Skips the blank lines in a block scalar: lines of up to `indent` spaces. Returns how many
    /// there were; the position is after the spaces that start the next line, up to `indent`.
    mutating func skipBlockScalarBreaks(indent: Int) -> Int {
        var breaks = 0
        while true {
            while column < indent, current == UInt8(ascii: " ") { pos += 1 }
            guard current == UInt8(ascii: "\n") else { return breaks }
            newline()
            breaks += 1
        }
    }

    // MARK: - The core schema

    /// The kind of a plain scalar in the YAML 1.2 core schema; nil for an integer that does not
    /// fit in `Int`.
    static func resolvePlain(_ text: ArraySlice<UInt8>) -> YAMLValue.Kind? {
        guard let first = text.first else { return .null }
        switch first {
        case UInt8(ascii: "~"):
            if text.count == 1 { return .null }
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            if equals(text, "null", "Null", "NULL") { return .null }
        case UInt8(ascii: "t"), UInt8(ascii: "T"):
            if equals(text, "true", "True", "TRUE") { return .bool(true) }
        case UInt8(ascii: "f"), UInt8(ascii: "F"):
            if equals(text, "false", "False", "FALSE") { return .bool(false) }
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"),
            UInt8(ascii: "."):
            if let number = number(text) { return number }
        default:
            break
        }
        return .string(String(decoding: text, as: UTF8.self))
    }

    /// Whether `text` is one of three spellings of a word (lower, capitalized, upper case).
    private static func equals(
        _ text: ArraySlice<UInt8>, _ lower: StaticString, _ capitalized: StaticString,
        _ upper: StaticString
    ) -> Bool {
        guard text.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { text.elementsEqual($0) }
            || capitalized.withUTF8Buffer { text.elementsEqual($0) }
            || upper.withUTF8Buffer { text.elementsEqual($0) }
    }

    /// The number a plain scalar is in the core schema: `.int` (nil inside when it does not
    /// fit), `.double`, or nil when it is no number.
    private static func number(_ text: ArraySlice<UInt8>) -> YAMLValue.Kind?? {
        let string = String(decoding: text, as: UTF8.self)
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        var index = text.startIndex
        let end = text.endIndex
        // 0o17 and 0x1F: unsigned, lower-case prefix.
        if text.count > 2, text[index] == UInt8(ascii: "0") {
            let prefix = text[index + 1]
            let digits = text[(index + 2)...]
            if prefix == UInt8(ascii: "o"),
                digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) })
            {
                return .some(Int(string.dropFirst(2), radix: 8).map { .int($0) })
            }
            if prefix == UInt8(ascii: "x"), digits.allSatisfy({ hexValue($0) != nil }) {
                return .some(Int(string.dropFirst(2), radix: 16).map { .int($0) })
            }
        }
        let isSigned = text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-")
        if isSigned { index += 1 }
        let unsigned = text[index...]
        if equals(unsigned, ".inf", ".Inf", ".INF") {
            return YAMLValue.Kind.double(text.first == UInt8(ascii: "-") ? -.infinity : .infinity)
        }
        if !isSigned, equals(unsigned, ".nan", ".NaN", ".NAN") {
            return YAMLValue.Kind.double(.nan)
        }
        let integerStart = index
        while index < end, isDigit(text[index]) { index += 1 }
        let integerDigits = index - integerStart
        if index == end {
            guard integerDigits > 0 else { return nil }
            return .some(Int(string).map { .int($0) })
        }
        var fractionDigits = 0
        if text[index] == UInt8(ascii: ".") {
            index += 1
            while index < end, isDigit(text[index]) {
                index += 1
                fractionDigits += 1
            }
        }
        guard integerDigits > 0 || fractionDigits > 0 else { return nil }
        if index < end, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") {
            index += 1
            if index < end, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                index += 1
            }
            let exponentStart = index
            while index < end, isDigit(text[index]) { index += 1 }
            guard index > exponentStart else { return nil }
        }
        guard index == end, let value = Double(string) else { return nil }
        return YAMLValue.Kind.double(value)
    }

    /// A scalar's text as a mapping key: the string itself, or the canonical text of another
    /// scalar (`80`, `true`, `null`, `0.5`, `.inf`); nil for a collection.
    static func keyText(_ kind: YAMLValue.Kind) -> String? {
        switch kind {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value):
            if value.isNaN {
                ".nan"
            } else if value.isInfinite {
                value < 0 ? "-.inf" : ".inf"
            } else {
                value.description
            }
        case .string(let value): value
        case .sequence, .mapping: nil
        }
    }
}
