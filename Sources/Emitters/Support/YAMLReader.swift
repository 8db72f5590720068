/// Reads YAML text into ``YAMLValue``s: the YAML that `kubectl`, Helm and people write for
/// Kubernetes manifests, as YAML 1.2 reads it, and nothing that YAML would read otherwise.
///
/// For example, `YAMLReader.documents("ports:\n- port: 443\n---\nkind: List\n")` is two
/// mappings, `{ports: [{port: 443}]}` from line 1 and `{kind: List}` from line 4.
///
/// What it reads: block mappings and sequences (a sequence may be indented under its key or
/// start at the key's column), compact nesting (`- - x`, `- key: v`), flow collections
/// (`[a, b]`, `{a: 1}`, across lines, JSON), plain scalars (across lines, folded), single- and
/// double-quoted scalars (with every YAML escape, across lines), literal (`|`) and folded (`>`)
/// block scalars with chomping (`-`, `+`) and indentation (`|2`) indicators, comments, document
/// markers (`---`, `...`), `%YAML 1.1` and `%YAML 1.2` directives, a byte order mark, and CRLF or
/// CR line breaks. Scalars are resolved with the YAML 1.2 core schema (see
/// ``YAMLValue/Kind``): `yes`, `no`, `on` and `off` are strings, even under `%YAML 1.1`.
///
/// What it refuses, with a ``YAMLError`` and the line, rather than read something else than
/// what YAML would: anchors (`&a`) and aliases (`*a`), merge keys (`<<`), tags (`!!str`, `!x`)
/// and `%TAG`, complex keys (`? `), tabs that indent, duplicate keys in a mapping, bad
/// indentation, unterminated quoted scalars and flow collections, an entry without `:` in a
/// mapping, text after a document's value, integers that do not fit in `Int`, control
/// characters and the line separators U+0085, U+2028 and U+2029 (written as themselves), and
/// collections nested deeper than 200 levels.
public enum YAMLReader {
    /// Parses a stream of one or more documents, separated by `---` and optionally ended by
    /// `...`.
    ///
    /// A document that holds nothing (only comments or blank lines, as Helm leaves behind for a
    /// template that renders nothing) is skipped, as `kubectl` skips it; a document that says
    /// `~` or `null` is a null value. So `""`, `"# nothing\n"` and `"---\n---\n"` are no
    /// documents, and `"a: 1\n---\n# Source: x.yaml\n---\nb: 2\n"` is two.
    ///
    /// - Throws: ``YAMLError`` at the first problem, with its line and column.
    public static func documents(_ text: String) throws(YAMLError) -> [YAMLValue] {
        var parser = try YAMLParser(text)
        return try parser.stream()
    }
}

/// The state of one reading of a text: the bytes, and where the reading is in them.
///
/// Block structure is read by recursive descent over lines. After a block node has been read,
/// the position is always at the first character of the next line with content, or at the end
/// of the text (see ``nextContent()``), so that the caller compares that line's column with its
/// own.
struct YAMLParser {
    /// A remembered position, for messages.
    struct Mark {
        var line: Int
        var lineStart: Int
        var position: Int
    }

    /// A key of a block mapping, read up to its `:`.
    struct Key {
        /// The key's text, canonical for a scalar that is not a string.
        var text: String
        /// Where the key starts.
        var mark: Mark
        /// Whether it is a plain `<<`, a merge key.
        var isMerge: Bool
    }

    /// How deeply collections may nest: far beyond any manifest, well within the stack.
    static let maximumDepth = 200

    /// The text as UTF-8, without byte order mark, with every line break a line feed.
    let bytes: [UInt8]
    /// The index of the next byte to read.
    var pos = 0
    /// The 1-based line of `pos`.
    var line = 1
    /// The index of the first byte of that line.
    var lineStart = 0
    /// How many collections enclose `pos`.
    var depth = 0
    /// How many spaces must indent each further line of the flow collection or quoted scalar
    /// being read: more than the block collection around it.
    var continuationIndent = 0

    init(_ text: String) throws(YAMLError) {
        bytes = try Self.normalized(text)
    }

    // MARK: - Bytes

    /// The byte at `index`, or 0 past the end (0 never occurs in the normalized text).
    @inline(__always) func byte(_ index: Int) -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    /// The byte at the position, or 0 at the end.
    var current: UInt8 { byte(pos) }
    /// Whether the whole text has been read.
    var atEnd: Bool { pos >= bytes.count }
    /// The 0-based column of the position, in bytes (indentation is always ASCII).
    var column: Int { pos - lineStart }
    /// The position, to report a problem there later.
    var mark: Mark { Mark(line: line, lineStart: lineStart, position: pos) }

    @inline(__always) static func isWhite(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// White space, a line break or the end of the text: what must follow `-`, `?` or `:` for
    /// them to be indicators.
    @inline(__always) static func isBlankOrEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == 0
    }

    @inline(__always) static func isFlowIndicator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
            || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
    }

    /// Moves past the line feed at the position.
    @inline(__always) mutating func newline() {
        pos += 1
        line += 1
        lineStart = pos
    }

    /// Skips spaces and tabs; returns whether there were any.
    @discardableResult mutating func skipWhite() -> Bool {
        let start = pos
        while Self.isWhite(current) { pos += 1 }
        return pos > start
    }

    /// Whether `---` or `...` followed by white space or a line break starts at `index`, the start
    /// of a line.
    func isDocumentMarker(at index: Int) -> Bool {
        let first = byte(index)
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: ".") else { return false }
        return byte(index + 1) == first && byte(index + 2) == first
            && Self.isBlankOrEnd(byte(index + 3))
    }

    /// Whether the position is at a block sequence entry: `-` and white space or a line break.
    var atSequenceEntry: Bool {
        current == UInt8(ascii: "-") && Self.isBlankOrEnd(byte(pos + 1))
    }

    // MARK: - Messages

    /// An error at `mark`, by default the position, with its column in Unicode scalars.
    func error(_ message: String, at mark: Mark? = nil) -> YAMLError {
        let mark = mark ?? self.mark
        var column = 1
        var index = mark.lineStart
        while index < min(mark.position, bytes.count) {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return YAMLError(line: mark.line, column: column, message: message)
    }

    /// The rest of the line from `index`, without trailing white space, shortened to 40
    /// characters, to quote in a message.
    func snippet(from index: Int, word: Bool = false) -> String {
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\n") {
            if word, Self.isWhite(bytes[end]) || Self.isFlowIndicator(bytes[end]) { break }
            end += 1
        }
        while end > index, Self.isWhite(bytes[end - 1]) { end -= 1 }
        let text = String(decoding: bytes[min(index, end)..<end], as: UTF8.self)
        let scalars = text.unicodeScalars
        guard scalars.count > 40 else { return text }
        return String(String.UnicodeScalarView(scalars.prefix(40))) + "..."
    }

    /// The error for a node that starts with an indicator topogen does not read: `&`, `*`, `!`,
    /// `%`, `@` or a backquote.
    func unsupportedIndicator() -> YAMLError {
        let word = snippet(from: pos, word: true)
        switch current {
        case UInt8(ascii: "&"):
            return error("anchors ('\(word)') are not supported; write the value out")
        case UInt8(ascii: "*"):
            return error("aliases ('\(word)') are not supported; write the value out")
        case UInt8(ascii: "!"):
            return error(
                "tags ('\(word)') are not supported; remove the tag, and quote the value if it "
                    + "must be a string")
        case UInt8(ascii: "%") where column == 0:
            return error(
                "a directive ('\(word)') must come before '---', at the start of the stream or "
                    + "after '...'")
        default:
            return error(
                "'\(String(decoding: [current], as: UTF8.self))' cannot start a plain scalar; "
                    + "quote the value")
        }
    }

    // MARK: - Lines

    /// Moves past blank lines and comment lines to the first character of the next line with
    /// content, which may be the position itself. Returns false at the end of the text.
    ///
    /// - Throws: When tabs indent that line.
    mutating func skipToContent() throws(YAMLError) -> Bool {
        while pos < bytes.count {
            var index = pos
            while byte(index) == UInt8(ascii: " ") { index += 1 }
            let tab = index
            while Self.isWhite(byte(index)) { index += 1 }
            switch byte(index) {
            case UInt8(ascii: "\n"):
                pos = index
                newline()
            case 0:
                pos = index
                return false
            case UInt8(ascii: "#"):
                pos = index
                while current != UInt8(ascii: "\n"), !atEnd { pos += 1 }
            default:
                if tab < index {
                    pos = tab
                    throw error("tabs are not allowed for indentation")
                }
                pos = index
                return true
            }
        }
        return false
    }

    /// The column of the next line with content, at its first character (see
    /// ``skipToContent()``); nil at the end of the text or at a document marker.
    mutating func nextContent() throws(YAMLError) -> Int? {
        guard try skipToContent() else { return nil }
        if column == 0, isDocumentMarker(at: pos) { return nil }
        return column
    }

    /// After a value on its line: skips white space and a comment, and the line break.
    ///
    /// - Throws: When anything else follows the value.
    mutating func finishLine(after what: @autoclosure () -> String) throws(YAMLError) {
        skipWhite()
        if current == UInt8(ascii: "#") {
            guard pos == lineStart || Self.isWhite(byte(pos - 1)) else {
                throw error("a comment needs white space before its '#'")
            }
            while current != UInt8(ascii: "\n"), !atEnd { pos += 1 }
        }
        if current == UInt8(ascii: "\n") {
            newline()
        } else if !atEnd {
            throw error("unexpected '\(snippet(from: pos))' after \(what())")
        }
    }

    /// After a value that ends its line: finishes the line and moves to the next content.
    mutating func endValue(after what: @autoclosure () -> String) throws(YAMLError) {
        try finishLine(after: what())
        _ = try nextContent()
    }

    /// Counts one more level of nesting.
    mutating func enter() throws(YAMLError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw error("collections are nested deeper than \(Self.maximumDepth) levels")
        }
    }

    // MARK: - Stream and documents

    /// Every document of the text, empty ones skipped.
    mutating func stream() throws(YAMLError) -> [YAMLValue] {
        var documents: [YAMLValue] = []
        // At the start of the stream or after '...', where directives may come.
        var directivesAllowed = true
        while true {
            var directive: Mark?
            var sawYAMLDirective = false
            var explicit = false
            prologue: while true {
                guard try skipToContent() else {
                    if let directive {
                        throw error("a directive must be followed by '---'", at: directive)
                    }
                    return documents
                }
                if column == 0, current == UInt8(ascii: "%"), directivesAllowed {
                    directive = directive ?? mark
                    try readDirective(sawYAMLDirective: &sawYAMLDirective)
                    continue
                }
                if column == 0, isDocumentMarker(at: pos) {
                    if current == UInt8(ascii: "-") {
                        pos += 3
                        explicit = true
                        break prologue
                    }
                    if let directive {
                        throw error("a directive must be followed by '---'", at: directive)
                    }
                    pos += 3
                    try finishLine(after: "'...'")
                    directivesAllowed = true
                    continue
                }
                if let directive {
                    throw error("a directive must be followed by '---'", at: directive)
                }
                break
            }
            directivesAllowed = false
            if let document = try document(explicit: explicit) {
                documents.append(document)
            }
        }
    }

    /// Reads `%YAML 1.2` (or `1.1`) and refuses every other directive.
    mutating func readDirective(sawYAMLDirective: inout Bool) throws(YAMLError) {
        let start = mark
        let word = snippet(from: pos, word: true)
        pos += 1
        let nameStart = pos
        while !Self.isBlankOrEnd(current) { pos += 1 }
        switch String(decoding: bytes[nameStart..<pos], as: UTF8.self) {
        case "YAML":
            guard !sawYAMLDirective else {
                throw error("a document has more than one '%YAML' directive", at: start)
            }
            sawYAMLDirective = true
            skipWhite()
            let version = snippet(from: pos, word: true)
            guard version == "1.2" || version == "1.1" else {
                throw error(
                    "YAML version '\(version)' is not supported; topogen reads YAML 1.2 (and 1.1)")
            }
            pos += version.utf8.count
            try finishLine(after: "the '%YAML' directive")
        case "TAG":
            throw error("tag directives ('%TAG') are not supported", at: start)
        default:
            throw error("unknown directive '\(word)'", at: start)
        }
    }

    /// One document, after its `---` when `explicit`; nil when it holds nothing. Returns at the
    /// end of the text or at the next document marker.
    mutating func document(explicit: Bool) throws(YAMLError) -> YAMLValue? {
        var value: YAMLValue?
        if explicit {
            skipWhite()
            if atEnd || current == UInt8(ascii: "\n") || current == UInt8(ascii: "#") {
                try finishLine(after: "'---'")
            } else {
                // `--- text`, `--- |` or `--- [a]`: a node on the marker's line.
                value = try node(parent: -1, blockAllowed: false)
            }
        }
        if value == nil, try nextContent() != nil {
            value = try node(parent: -1, blockAllowed: true)
        }
        if try nextContent() != nil {
            throw error(
                "unexpected '\(snippet(from: pos))' after the end of the document's value; "
                    + "check its indentation")
        }
        return value
    }

    // MARK: - Block nodes

    /// Reads the node whose first character is at the position, in a block collection at
    /// column `parent` (-1 for a document's top level). A block mapping or sequence may start
    /// here only when `blockAllowed`: on a line of its own, or after `- `; not after `key: ` or
    /// `--- `. Returns at the next content.
    mutating func node(parent: Int, blockAllowed: Bool) throws(YAMLError) -> YAMLValue {
        let start = mark
        let next = byte(pos + 1)
        switch current {
        case UInt8(ascii: "-") where Self.isBlankOrEnd(next):
            guard blockAllowed else {
                throw error(
                    "a block sequence cannot start on the line of its key or of '---'; start "
                        + "'\(snippet(from: pos))' on the next line")
            }
            return try blockSequence()
        case UInt8(ascii: "?") where Self.isBlankOrEnd(next):
            throw error("complex keys ('? ') are not supported; write a plain or quoted key")
        case UInt8(ascii: ":") where Self.isBlankOrEnd(next):
            throw error("a mapping entry has no key before its ':'")
        case UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "%"),
            UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw unsupportedIndicator()
        case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"):
            throw error("unexpected '\(snippet(from: pos))'; quote the value")
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            let value = try blockScalar(parent: parent)
            _ = try nextContent()
            return value
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            continuationIndent = parent + 1
            let value = try flowCollection()
            skipWhite()
            if current == UInt8(ascii: ":") {
                throw error(
                    "a flow collection cannot be a mapping key; write a plain or quoted key",
                    at: start)
            }
            try endValue(after: "the flow collection")
            return value
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            continuationIndent = parent + 1
            let text = try quotedScalar()
            skipWhite()
            if current == UInt8(ascii: ":"), Self.isBlankOrEnd(byte(pos + 1)) {
                guard line == start.line else {
                    throw error("a mapping key must be on one line", at: start)
                }
                guard blockAllowed else { throw nestedMapping(key: start) }
                return try blockMapping(
                    first: Key(text: text, mark: start, isMerge: false),
                    column: start.position - start.lineStart)
            }
            try endValue(after: "the quoted scalar")
            return YAMLValue(.string(text), line: start.line)
        default:
            break
        }
        let segment = scanPlain(flow: false)
        if segment.stop == .colon {
            guard blockAllowed else { throw nestedMapping(key: start) }
            let key = try plainKey(segment, at: start)
            return try blockMapping(first: key, column: start.position - start.lineStart)
        }
        return try plainBlockScalar(first: segment, parent: parent, start: start)
    }

    /// The error for `key: other: value` or `--- key: value`: a mapping that would start on the
    /// line of a key or of `---`.
    func nestedMapping(key: Mark) -> YAMLError {
        let text = String(decoding: bytes[key.position..<pos], as: UTF8.self)
        return error(
            "unexpected ': ' after '\(text)'; quote a value that contains ': ', and start a "
                + "nested mapping on the next line")
    }

    /// The value after `key:` or `-`: on the same line, on the lines below (indented more than
    /// `parent`; a mapping's value may also be a sequence at the column of its key when
    /// `sequenceAtParentColumn`), or null on the line `emptyLine`. `compact` allows a block
    /// collection on the same line, as after `- `.
    mutating func blockValue(
        parent: Int, emptyLine: Int, sequenceAtParentColumn: Bool, compact: Bool
    ) throws(YAMLError) -> YAMLValue {
        skipWhite()
        guard atEnd || current == UInt8(ascii: "\n") || current == UInt8(ascii: "#") else {
            return try node(parent: parent, blockAllowed: compact)
        }
        try finishLine(after: "the value")
        guard let next = try nextContent() else { return YAMLValue(.null, line: emptyLine) }
        if next > parent {
            return try node(parent: parent, blockAllowed: true)
        }
        if sequenceAtParentColumn, next == parent, atSequenceEntry {
            return try blockSequence()
        }
        return YAMLValue(.null, line: emptyLine)
    }

    /// A block mapping whose first key has been read; its keys are at `column`.
    mutating func blockMapping(first: Key, column: Int) throws(YAMLError) -> YAMLValue {
        try enter()
        defer { depth -= 1 }
        var entries: [YAMLValue.Entry] = []
        var keys = KeySet()
        var key = first
        while true {
            if key.isMerge {
                throw error(
                    "merge keys ('<<') are not supported; write the entries out", at: key.mark)
            }
            if let firstLine = keys.insert(key.text, line: key.mark.line) {
                throw error(
                    "duplicate key '\(key.text)' (first on line \(firstLine))", at: key.mark)
            }
            pos += 1  // the ':'
            let value = try blockValue(
                parent: column, emptyLine: key.mark.line, sequenceAtParentColumn: true,
                compact: false)
            entries.append(YAMLValue.Entry(key: key.text, keyLine: key.mark.line, value: value))
            guard let next = try nextContent(), next >= column else { break }
            guard next == column else {
                throw error(
                    "bad indentation: expected a key at column \(column + 1), found "
                        + "'\(snippet(from: pos))' at column \(next + 1)")
            }
            key = try blockKey()
        }
        return YAMLValue(.mapping(entries), line: first.mark.line)
    }

    /// The key of the next entry of a block mapping, at the position; returns at its `:`.
    mutating func blockKey() throws(YAMLError) -> Key {
        let start = mark
        let next = byte(pos + 1)
        switch current {
        case UInt8(ascii: "?") where Self.isBlankOrEnd(next):
            throw error("complex keys ('? ') are not supported; write a plain or quoted key")
        case UInt8(ascii: ":") where Self.isBlankOrEnd(next):
            throw error("a mapping entry has no key before its ':'")
        case UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "%"),
            UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw unsupportedIndicator()
        case UInt8(ascii: "-") where Self.isBlankOrEnd(next),
            UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: ">"),
            UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"):
            throw error(
                "expected a 'key: value' entry of the mapping, found '\(snippet(from: pos))'")
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            continuationIndent = column + 1
            let text = try quotedScalar()
            skipWhite()
            guard current == UInt8(ascii: ":"), Self.isBlankOrEnd(byte(pos + 1)) else {
                throw error(
                    "expected a 'key: value' entry of the mapping, found "
                        + "'\(snippet(from: start.position))'", at: start)
            }
            guard line == start.line else {
                throw error("a mapping key must be on one line", at: start)
            }
            return Key(text: text, mark: start, isMerge: false)
        default:
            let segment = scanPlain(flow: false)
            guard segment.stop == .colon else {
                let text = snippet(from: start.position)
                if bytes[segment.start..<segment.end].contains(UInt8(ascii: ":")) {
                    throw error(
                        "'\(text)' is not a 'key: value' entry of the mapping: a ':' must be "
                            + "followed by a space", at: start)
                }
                throw error(
                    "'\(text)' has no ':'; expected a 'key: value' entry of the mapping",
                    at: start)
            }
            return try plainKey(segment, at: start)
        }
    }

    /// A plain scalar read as a key: its canonical text (see ``YAMLValue/Entry``).
    func plainKey(_ segment: PlainSegment, at start: Mark) throws(YAMLError) -> Key {
        let text = bytes[segment.start..<segment.end]
        guard let kind = Self.resolvePlain(text) else { throw integerTooLarge(text, at: start) }
        // A scalar is never a collection.
        let key = Self.keyText(kind) ?? ""
        let isMerge = text.count == 2 && text.allSatisfy { $0 == UInt8(ascii: "<") }
        return Key(text: key, mark: start, isMerge: isMerge)
    }

    /// A block sequence whose first `-` is at the position.
    mutating func blockSequence() throws(YAMLError) -> YAMLValue {
        try enter()
        defer { depth -= 1 }
        let column = self.column
        let startLine = line
        var items: [YAMLValue] = []
        while true {
            let dashLine = line
            pos += 1  // the '-'
            while current == UInt8(ascii: " ") { pos += 1 }
            if current == UInt8(ascii: "\t") {
                let tab = mark
                skipWhite()
                if !(atEnd || current == UInt8(ascii: "\n") || current == UInt8(ascii: "#")) {
                    throw error("tabs are not allowed for indentation", at: tab)
                }
            }
            items.append(
                try blockValue(
                    parent: column, emptyLine: dashLine, sequenceAtParentColumn: false,
                    compact: true))
            guard let next = try nextContent(), next >= column else { break }
            guard next == column else {
                throw error(
                    "bad indentation: expected '- ' at column \(column + 1), found "
                        + "'\(snippet(from: pos))' at column \(next + 1)")
            }
            guard atSequenceEntry else { break }
        }
        return YAMLValue(.sequence(items), line: startLine)
    }

    // MARK: - Flow collections

    /// Skips white space, line breaks and comments inside a flow collection that starts at
    /// `collection`.
    ///
    /// - Throws: At the end of the text or a document marker: the collection is not closed.
    mutating func skipFlowSpace(_ collection: Mark) throws(YAMLError) {
        let startLine = line
        while true {
            switch current {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                pos += 1
            case UInt8(ascii: "\n"):
                newline()
                if isDocumentMarker(at: pos) { throw unterminatedFlow(collection) }
            case UInt8(ascii: "#") where pos == lineStart || Self.isWhite(byte(pos - 1)):
                while current != UInt8(ascii: "\n"), !atEnd { pos += 1 }
            case 0:
                throw unterminatedFlow(collection)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                // A closing bracket may be at the column of the key, as JSON is often written.
                return
            default:
                if line != startLine { try checkContinuation(of: collection) }
                return
            }
        }
    }

    /// Checks that the line at the position, which goes on with the flow collection or quoted
    /// scalar that starts at `start`, is indented enough to do so: otherwise the collection's
    /// closing bracket, or the scalar's closing quote, is missing.
    func checkContinuation(of start: Mark) throws(YAMLError) {
        var index = lineStart
        while byte(index) == UInt8(ascii: " ") { index += 1 }
        guard index - lineStart < continuationIndent else { return }
        let opening = byte(start.position)
        let (what, closing) =
            switch opening {
            case UInt8(ascii: "["): ("flow sequence", "]")
            case UInt8(ascii: "{"): ("flow mapping", "}")
            case UInt8(ascii: "'"): ("single-quoted scalar", "'")
            default: ("double-quoted scalar", "\"")
            }
        throw error(
            "the \(what) that starts here is not closed before line \(line), which is not "
                + "indented enough to go on with it; add the missing '\(closing)'", at: start)
    }

    func unterminatedFlow(_ collection: Mark) -> YAMLError {
        let isSequence = byte(collection.position) == UInt8(ascii: "[")
        return error(
            "the flow \(isSequence ? "sequence" : "mapping") that starts here is never closed; "
                + "'\(isSequence ? "]" : "}")' is missing", at: collection)
    }

    /// A flow sequence or mapping whose `[` or `{` is at the position; returns after its `]` or
    /// `}`.
    mutating func flowCollection() throws(YAMLError) -> YAMLValue {
        try enter()
        defer { depth -= 1 }
        let start = mark
        let isSequence = current == UInt8(ascii: "[")
        let close = isSequence ? UInt8(ascii: "]") : UInt8(ascii: "}")
        let name = isSequence ? "sequence" : "mapping"
        pos += 1
        var items: [YAMLValue] = []
        var entries: [YAMLValue.Entry] = []
        var keys = KeySet()
        try skipFlowSpace(start)
        while current != close {
            if current == UInt8(ascii: "?"),
                Self.isBlankOrEnd(byte(pos + 1)) || Self.isFlowIndicator(byte(pos + 1))
            {
                throw error("complex keys ('? ') are not supported; write a plain or quoted key")
            }
            let keyStart = mark
            let node = try flowNode(in: start)
            try skipFlowSpace(start)
            let after = byte(pos + 1)
            let hasValue =
                current == UInt8(ascii: ":")
                && (node.isJSONLike || Self.isBlankOrEnd(after) || Self.isFlowIndicator(after))
            if isSequence, !hasValue {
                items.append(node.value)
            } else {
                // A mapping entry, or a single-pair mapping in a sequence: `[a: 1]`.
                guard let key = node.key else {
                    throw error(
                        "a flow collection cannot be a mapping key; write a plain or quoted key",
                        at: keyStart)
                }
                if node.isMerge {
                    throw error(
                        "merge keys ('<<') are not supported; write the entries out", at: keyStart)
                }
                var value = YAMLValue(.null, line: keyStart.line)
                if hasValue {
                    pos += 1
                    try skipFlowSpace(start)
                    if current != UInt8(ascii: ","), current != close {
                        value = try flowNode(in: start).value
                        try skipFlowSpace(start)
                    }
                }
                let entry = YAMLValue.Entry(key: key, keyLine: keyStart.line, value: value)
                if isSequence {
                    items.append(YAMLValue(.mapping([entry]), line: keyStart.line))
                } else {
                    if let firstLine = keys.insert(key, line: keyStart.line) {
                        throw error(
                            "duplicate key '\(key)' (first on line \(firstLine))", at: keyStart)
                    }
                    entries.append(entry)
                }
            }
            if current == UInt8(ascii: ",") {
                pos += 1
                try skipFlowSpace(start)
            } else if current != close {
                throw error(
                    "expected ',' or '\(isSequence ? "]" : "}")' in the flow \(name) that "
                        + "starts on line \(start.line), found '\(snippet(from: pos))'")
            }
        }
        pos += 1
        return YAMLValue(isSequence ? .sequence(items) : .mapping(entries), line: start.line)
    }

    /// A node inside a flow collection, with what it means as a key.
    struct FlowNode {
        var value: YAMLValue
        /// Its text as a key; nil for a collection.
        var key: String?
        /// A quoted scalar or a collection, after which `:` needs no space.
        var isJSONLike: Bool
        /// A plain `<<`.
        var isMerge: Bool
    }

    /// The node at the position inside the flow collection that starts at `collection`.
    mutating func flowNode(in collection: Mark) throws(YAMLError) -> FlowNode {
        let start = mark
        let next = byte(pos + 1)
        switch current {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return FlowNode(value: try flowCollection(), key: nil, isJSONLike: true, isMerge: false)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            let text = try quotedScalar()
            return FlowNode(
                value: YAMLValue(.string(text), line: start.line), key: text, isJSONLike: true,
                isMerge: false)
        case UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "%"),
            UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw unsupportedIndicator()
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            throw error("block scalars ('|', '>') cannot be inside a flow collection")
        case UInt8(ascii: ","):
            throw error("a flow collection has an empty entry before ','")
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
            throw error(
                "unexpected '\(String(decoding: [current], as: UTF8.self))' in the flow "
                    + "collection that starts on line \(collection.line)")
        case UInt8(ascii: "#"):
            throw error("a comment needs white space before its '#'")
        case UInt8(ascii: "-") where Self.isBlankOrEnd(next):
            throw error("block sequence entries ('- ') cannot be inside a flow collection")
        case UInt8(ascii: "-") where Self.isFlowIndicator(next),
            UInt8(ascii: "?") where Self.isFlowIndicator(next):
            throw error(
                "'\(String(decoding: [current], as: UTF8.self))' cannot start a plain scalar "
                    + "before '\(String(decoding: [next], as: UTF8.self))'; quote the value")
        case UInt8(ascii: ":") where Self.isBlankOrEnd(next) || Self.isFlowIndicator(next):
            throw error("a mapping entry has no key before its ':'")
        default:
            return try plainFlowScalar(start: start, in: collection)
        }
    }
}

/// The keys of one mapping so far, to refuse a duplicate: a scan of the few first keys, a
/// dictionary beyond.
struct KeySet {
    private var small: [(key: String, line: Int)] = []
    private var large: [String: Int]?

    /// Adds `key`; returns the line of the same key already there, if any.
    mutating func insert(_ key: String, line: Int) -> Int? {
        if var large {
            if let first = large[key] { return first }
            self.large = nil
            large[key] = line
            self.large = large
            return nil
        }
        if let first = small.first(where: { $0.key == key }) { return first.line }
        small.append((key, line))
        if small.count > 16 {
            large = Dictionary(small.map { ($0.key, $0.line) }) { first, _ in first }
            small = []
        }
        return nil
    }
}
