import TopologyModel

/// Parses HCL's native syntax, as `.tf` files are written, into an ``HCLBody``: blocks with
/// labels, attributes, comments (`#`, `//`, `/* */`), and every expression of the language
/// (templates with `${...}` and heredocs, numbers, bools, null, tuples, objects, references,
/// index and splat traversals, function calls, operators, conditionals and `for`
/// expressions). Template directives (`%{ if }`, `%{ for }`) are parsed over and kept as
/// ``HCLExpression/Kind/unsupported(_:)``.
///
/// It works on the UTF-8 bytes in one pass, with one token of lookahead (two where a body
/// item or an object key needs it), so its time is linear in the input.
///
/// Blocks and expressions nested deeper than ``maximumDepth`` levels are refused (a chain of
/// operators or traversals counts one level per operator), so that neither parsing nor
/// evaluating them can overflow the stack: `a = [[[...]]]` 201 levels deep throws
/// `main.tf:1: expressions and blocks are nested deeper than 200 levels`.
///
/// For example: `HCLParser.parse(InputText(name: "main.tf", contents: "a = 1\n"))` gives a
/// body with the attribute `a`, `1` at line 1; `a = [1,` throws
/// `main.tf:1: expected an expression, found the end of the file`.
struct HCLParser {
    private let bytes: [UInt8]
    private let file: String
    private var position = 0
    private var line = 1
    private var lookahead: [Token] = []
    /// Whether newlines end what is being parsed (bodies, object constructors) or are
    /// skipped (inside parentheses, brackets and interpolations), innermost last.
    private var newlineModes: [Bool] = [true]
    /// How deeply the expression or block being parsed is nested.
    private var depth = 0

    /// The deepest nesting of blocks and expressions read, far beyond what configurations
    /// write (Terraform's own modules nest a few levels).
    static let maximumDepth = 200

    private init(_ input: InputText) {
        bytes = Array(input.contents.utf8)
        file = input.name
    }

    /// Parses one file.
    ///
    /// - Throws: ``ReadError`` with the file and line of the first syntax error.
    static func parse(_ input: InputText) throws(ReadError) -> HCLBody {
        var parser = HCLParser(input)
        let body = try parser.parseBody(topLevel: true)
        return body
    }

    // MARK: - Tokens

    /// A token and the line it starts on.
    private struct Token {
        var kind: TokenKind
        var line: Int
    }

    /// What a token is.
    private enum TokenKind: Equatable, CustomStringConvertible {
        /// A name or keyword: `resource`, `var`, `for`, `true`.
        case identifier(String)
        case number(Double)
        /// The opening `"` of a string; its contents are read as a template.
        case quote
        /// `<<EOF` or `<<-EOF` and the newline after it; the lines are read as a template.
        case heredoc(String, indented: Bool)
        /// An operator or delimiter: `{`, `==`, `...`.
        case punctuation(String)
        /// The end of a line, which ends attributes and object items.
        case newline
        /// The end of the input.
        case end

        /// The token as messages quote it: `'name'`, `the end of the line`.
        var description: String {
            switch self {
            case .identifier(let name): "'\(name)'"
            case .number(let value): "'\(HCLValue.format(value))'"
            case .quote: "'\"'"
            case .heredoc(let marker, _): "'<<\(marker)'"
            case .punctuation(let text): "'\(text)'"
            case .newline: "the end of the line"
            case .end: "the end of the file"
            }
        }
    }

    /// The error of a problem at a line of this file.
    /// Counts one more level of nesting; the caller restores ``depth`` when it is done.
    private mutating func deeper(_ line: Int) throws(ReadError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw error(
                "expressions and blocks are nested deeper than \(Self.maximumDepth) levels", line)
        }
    }

    private func error(_ message: String, _ line: Int) -> ReadError {
        ReadError(SourceLocation(file: file, line: line), message)
    }

    /// Whether a newline ends what is being parsed.
    private var newlinesMatter: Bool { newlineModes.last ?? true }

    /// The `k`-th token ahead that matters in the current mode.
    private mutating func peek(_ k: Int = 0) throws(ReadError) -> Token {
        var seen = 0
        var index = 0
        while true {
            if index == lookahead.count { lookahead.append(try scan()) }
            let token = lookahead[index]
            if token.kind == .newline && !newlinesMatter {
                index += 1
                continue
            }
            if seen == k || token.kind == .end { return token }
            seen += 1
            index += 1
        }
    }

    /// Consumes the next token that matters, and the newlines skipped before it.
    @discardableResult
    private mutating func advance() throws(ReadError) -> Token {
        let token = try peek()
        if let index = lookahead.firstIndex(where: {
            $0.kind != .newline || newlinesMatter
        }) {
            lookahead.removeFirst(index + 1)
        }
        return token
    }

    /// Consumes `punctuation`, or fails naming what was found instead.
    private mutating func expect(_ punctuation: String, _ context: String) throws(ReadError) {
        let token = try peek()
        guard token.kind == .punctuation(punctuation) else {
            throw error("expected '\(punctuation)' \(context), found \(token.kind)", token.line)
        }
        try advance()
    }

    /// Whether the token is that punctuation.
    private func isPunctuation(_ token: Token, _ text: String) -> Bool {
        token.kind == .punctuation(text)
    }

    /// Whether the token is that identifier.
    private func isKeyword(_ token: Token, _ word: String) -> Bool {
        token.kind == .identifier(word)
    }

    /// Letters, `_`, and every non-ASCII byte (UTF-8 letters).
    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
            || byte >= 0x80
    }

    /// What may follow the first byte of an identifier: also digits and `-`.
    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || isDigit(byte) || byte == 0x2D
    }

    /// `0` to `9`.
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// The byte at `index`, nil past the end.
    private func byte(at index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Reads the next token from the bytes.
    private mutating func scan() throws(ReadError) -> Token {
        // White space and comments.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x20 || byte == 0x09 || byte == 0x0D {
                position += 1
            } else if byte == 0x23 || (byte == 0x2F && self.byte(at: position + 1) == 0x2F) {
                while position < bytes.count && bytes[position] != 0x0A { position += 1 }
            } else if byte == 0x2F && self.byte(at: position + 1) == 0x2A {
                let start = line
                position += 2
                while position < bytes.count
                    && !(bytes[position] == 0x2A && self.byte(at: position + 1) == 0x2F)
                {
                    if bytes[position] == 0x0A { line += 1 }
                    position += 1
                }
                guard position < bytes.count else {
                    throw error("the comment '/*' is not closed", start)
                }
                position += 2
            } else {
                break
            }
        }
        guard position < bytes.count else { return Token(kind: .end, line: line) }
        let start = position
        let byte = bytes[position]
        let tokenLine = line
        if byte == 0x0A {
            position += 1
            line += 1
            return Token(kind: .newline, line: tokenLine)
        }
        if Self.isIdentifierStart(byte) {
            while position < bytes.count && Self.isIdentifierByte(bytes[position]) { position += 1 }
            return Token(kind: .identifier(text(start, position)), line: tokenLine)
        }
        if Self.isDigit(byte) {
            while position < bytes.count && Self.isDigit(bytes[position]) { position += 1 }
            if self.byte(at: position) == 0x2E, let next = self.byte(at: position + 1),
                Self.isDigit(next)
            {
                position += 1
                while position < bytes.count && Self.isDigit(bytes[position]) { position += 1 }
            }
            if let e = self.byte(at: position), e == 0x65 || e == 0x45 {
                var index = position + 1
                if let sign = self.byte(at: index), sign == 0x2B || sign == 0x2D { index += 1 }
                if let digit = self.byte(at: index), Self.isDigit(digit) {
                    position = index
                    while position < bytes.count && Self.isDigit(bytes[position]) { position += 1 }
                }
            }
            let literal = text(start, position)
            guard let value = Double(literal) else {
                throw error("'\(literal)' is not a number", tokenLine)
            }
            return Token(kind: .number(value), line: tokenLine)
        }
        if byte == 0x22 {
            position += 1
            return Token(kind: .quote, line: tokenLine)
        }
        if byte == 0x3C, self.byte(at: position + 1) == 0x3C {
            var index = position + 2
            let indented = self.byte(at: index) == 0x2D
            if indented { index += 1 }
            let markerStart = index
            if let first = self.byte(at: index), Self.isIdentifierStart(first) {
                while index < bytes.count && Self.isIdentifierByte(bytes[index]) { index += 1 }
                let marker = text(markerStart, index)
                var end = index
                if self.byte(at: end) == 0x0D { end += 1 }
                guard self.byte(at: end) == 0x0A else {
                    throw error("a heredoc's marker '\(marker)' must end its line", tokenLine)
                }
                position = end + 1
                line += 1
                return Token(kind: .heredoc(marker, indented: indented), line: tokenLine)
            }
        }
        if let text = punctuation(at: position) {
            position += text.utf8.count
            return Token(kind: .punctuation(text), line: tokenLine)
        }
        let character = String(
            decoding: bytes[position..<min(bytes.count, position + 4)], as: UTF8.self
        )
        .prefix(1)
        throw error("unexpected character '\(character)'", tokenLine)
    }

    /// The punctuation at `index`, longest first: `...`, two-character operators, then one
    /// character.
    private func punctuation(at index: Int) -> String? {
        let first = bytes[index]
        let second = byte(at: index + 1)
        switch (first, second) {
        case (0x2E, 0x2E) where byte(at: index + 2) == 0x2E: return "..."
        case (0x3D, 0x3D): return "=="
        case (0x21, 0x3D): return "!="
        case (0x3C, 0x3D): return "<="
        case (0x3E, 0x3D): return ">="
        case (0x26, 0x26): return "&&"
        case (0x7C, 0x7C): return "||"
        case (0x3D, 0x3E): return "=>"
        case (0x3A, 0x3A): return "::"
        default: break
        }
        switch first {
        case 0x7B: return "{"
        case 0x7D: return "}"
        case 0x5B: return "["
        case 0x5D: return "]"
        case 0x28: return "("
        case 0x29: return ")"
        case 0x3D: return "="
        case 0x3C: return "<"
        case 0x3E: return ">"
        case 0x2B: return "+"
        case 0x2D: return "-"
        case 0x2A: return "*"
        case 0x2F: return "/"
        case 0x25: return "%"
        case 0x21: return "!"
        case 0x3F: return "?"
        case 0x3A: return ":"
        case 0x2C: return ","
        case 0x2E: return "."
        case 0x7E: return "~"
        default: return nil
        }
    }

    /// The text of some bytes.
    private func text(_ start: Int, _ end: Int) -> String {
        String(decoding: bytes[start..<end], as: UTF8.self)
    }

    // MARK: - Bodies

    /// A body: attributes and blocks until the end of the file (top level) or a `}`, which
    /// is left for the caller.
    private mutating func parseBody(topLevel: Bool) throws(ReadError) -> HCLBody {
        var body = HCLBody()
        var seen: [String: Int] = [:]
        while true {
            var token = try peek()
            while token.kind == .newline {
                try advance()
                token = try peek()
            }
            if token.kind == .end {
                if topLevel { return body }
                throw error(
                    "a block is not closed: expected '}', found the end of the file", token.line)
            }
            if isPunctuation(token, "}") {
                if topLevel { throw error("unexpected '}'", token.line) }
                return body
            }
            guard case .identifier(let name) = token.kind else {
                throw error(
                    "expected an attribute or a block, found \(token.kind)", token.line)
            }
            try advance()
            let next = try peek()
            if isPunctuation(next, "=") {
                try advance()
                if let first = seen[name] {
                    throw error(
                        "the attribute '\(name)' is set twice (first at line \(first))", token.line)
                }
                seen[name] = token.line
                let expression = try parseExpression()
                body.attributes.append(
                    HCLAttribute(name: name, expression: expression, line: token.line))
                try endOfItem(after: "the value of '\(name)'")
                continue
            }
            var labels: [String] = []
            while true {
                let label = try peek()
                if case .identifier(let text) = label.kind {
                    try advance()
                    labels.append(text)
                } else if label.kind == .quote {
                    try advance()
                    let expression = try parseTemplate(quoted: true, line: label.line)
                    guard case .literal(.string(let text)) = expression.kind else {
                        throw error("a block label must be a literal string", label.line)
                    }
                    labels.append(text)
                } else {
                    break
                }
            }
            let open = try peek()
            guard isPunctuation(open, "{") else {
                throw error(
                    "expected '=' or a block after '\(name)', found \(open.kind)", open.line)
            }
            try advance()
            let outer = depth
            try deeper(open.line)
            let inner = try parseBody(topLevel: false)
            depth = outer
            try advance()  // }
            body.blocks.append(HCLBlock(type: name, labels: labels, body: inner, line: token.line))
            try endOfItem(after: "the block '\(name)'")
        }
    }

    /// An attribute or block ends at a newline, the end of the file, or the `}` of a
    /// one-line block.
    private mutating func endOfItem(after what: String) throws(ReadError) {
        let token = try peek()
        switch token.kind {
        case .newline: try advance()
        case .end: break
        case .punctuation("}"): break
        default: throw error("unexpected \(token.kind) after \(what)", token.line)
        }
    }

    // MARK: - Expressions

    /// An expression: a conditional, or an operation of lower precedence.
    private mutating func parseExpression() throws(ReadError) -> HCLExpression {
        let outer = depth
        defer { depth = outer }
        try deeper(try peek().line)
        let condition = try parseBinary(level: 0)
        guard isPunctuation(try peek(), "?") else { return condition }
        try advance()
        let whenTrue = try parseExpression()
        try expect(":", "in a conditional expression")
        let whenFalse = try parseExpression()
        return HCLExpression(
            kind: .conditional(condition, whenTrue, whenFalse), line: condition.line)
    }

    /// The binary operators by precedence, lowest first, as HCL defines them.
    private static let levels: [[HCLExpression.BinaryOperator]] = [
        [.or], [.and], [.equal, .notEqual], [.less, .lessOrEqual, .greater, .greaterOrEqual],
        [.add, .subtract], [.multiply, .divide, .modulo],
    ]

    /// Binary operations of one precedence level and above, left-associative.
    private mutating func parseBinary(level: Int) throws(ReadError) -> HCLExpression {
        guard level < Self.levels.count else { return try parseUnary() }
        var lhs = try parseBinary(level: level + 1)
        let outer = depth
        defer { depth = outer }
        while true {
            let token = try peek()
            guard case .punctuation(let text) = token.kind,
                let op = HCLExpression.BinaryOperator(rawValue: text),
                Self.levels[level].contains(op)
            else { return lhs }
            try advance()
            try deeper(token.line)
            let rhs = try parseBinary(level: level + 1)
            lhs = HCLExpression(kind: .binary(op, lhs, rhs), line: lhs.line)
        }
    }

    /// `!` and `-`, then a primary expression with its traversals.
    private mutating func parseUnary() throws(ReadError) -> HCLExpression {
        let token = try peek()
        let outer = depth
        defer { depth = outer }
        if isPunctuation(token, "!") || isPunctuation(token, "-") { try deeper(token.line) }
        if isPunctuation(token, "!") {
            try advance()
            return HCLExpression(kind: .not(try parseUnary()), line: token.line)
        }
        if isPunctuation(token, "-") {
            try advance()
            let operand = try parseUnary()
            if case .literal(.number(let value)) = operand.kind {
                return HCLExpression(kind: .literal(.number(-value)), line: token.line)
            }
            return HCLExpression(kind: .negate(operand), line: token.line)
        }
        return try parsePostfix(try parsePrimary())
    }

    /// The traversals after an expression: `.name`, `.0`, `[key]`, `[*]` and `.*`.
    private mutating func parsePostfix(_ base: HCLExpression) throws(ReadError) -> HCLExpression {
        var expression = base
        let outer = depth
        defer { depth = outer }
        while true {
            let token = try peek()
            if isPunctuation(token, ".") || isPunctuation(token, "[") { try deeper(token.line) }
            if isPunctuation(token, ".") {
                try advance()
                let next = try advance()
                switch next.kind {
                case .identifier(let name):
                    expression = HCLExpression(kind: .attribute(expression, name), line: base.line)
                case .number(let value):
                    expression = HCLExpression(
                        kind: .index(
                            expression,
                            HCLExpression(kind: .literal(.number(value)), line: next.line)),
                        line: base.line)
                case .punctuation("*"):
                    let rest = try parseSplatRest(full: false, line: next.line)
                    expression = HCLExpression(kind: .splat(expression, rest), line: base.line)
                default:
                    throw error(
                        "expected an attribute name after '.', found \(next.kind)", next.line)
                }
            } else if isPunctuation(token, "[") {
                try advance()
                newlineModes.append(false)
                if isPunctuation(try peek(), "*") {
                    try advance()
                    try expect("]", "after '[*'")
                    newlineModes.removeLast()
                    let rest = try parseSplatRest(full: true, line: token.line)
                    expression = HCLExpression(kind: .splat(expression, rest), line: base.line)
                } else {
                    let key = try parseExpression()
                    try expect("]", "after an index")
                    newlineModes.removeLast()
                    expression = HCLExpression(kind: .index(expression, key), line: base.line)
                }
            } else {
                return expression
            }
        }
    }

    /// The traversal after a splat, applied to each element: attributes only after `.*`,
    /// attributes and indexes after `[*]`.
    private mutating func parseSplatRest(full: Bool, line: Int) throws(ReadError) -> HCLExpression {
        var rest = HCLExpression(kind: .splatItem, line: line)
        let outer = depth
        defer { depth = outer }
        while true {
            let token = try peek()
            try deeper(token.line)
            if isPunctuation(token, "."), case .identifier(let name) = try peek(1).kind {
                try advance()
                try advance()
                rest = HCLExpression(kind: .attribute(rest, name), line: line)
            } else if full, isPunctuation(token, "["), !isPunctuation(try peek(1), "*") {
                try advance()
                newlineModes.append(false)
                let key = try parseExpression()
                try expect("]", "after an index")
                newlineModes.removeLast()
                rest = HCLExpression(kind: .index(rest, key), line: line)
            } else {
                return rest
            }
        }
    }

    /// A literal, a name, a function call, a template, a heredoc, a parenthesized
    /// expression, a tuple, an object or a `for` expression.
    private mutating func parsePrimary() throws(ReadError) -> HCLExpression {
        let token = try peek()
        switch token.kind {
        case .number(let value):
            try advance()
            return HCLExpression(kind: .literal(.number(value)), line: token.line)
        case .identifier(let name):
            try advance()
            switch name {
            case "true": return HCLExpression(kind: .literal(.bool(true)), line: token.line)
            case "false": return HCLExpression(kind: .literal(.bool(false)), line: token.line)
            case "null": return HCLExpression(kind: .literal(.null), line: token.line)
            default: break
            }
            var function = name
            while isPunctuation(try peek(), "::"), case .identifier(let part) = try peek(1).kind {
                try advance()
                try advance()
                function += "::" + part
            }
            if isPunctuation(try peek(), "(") {
                return try parseCall(function, line: token.line)
            }
            return HCLExpression(kind: .variable(function), line: token.line)
        case .quote:
            try advance()
            return try parseTemplate(quoted: true, line: token.line)
        case .heredoc(let marker, let indented):
            try advance()
            return try parseHeredoc(marker: marker, indented: indented, line: token.line)
        case .punctuation("("):
            try advance()
            newlineModes.append(false)
            let inner = try parseExpression()
            try expect(")", "to close '('")
            newlineModes.removeLast()
            return inner
        case .punctuation("["):
            try advance()
            newlineModes.append(false)
            defer { newlineModes.removeLast() }
            if try isForKeyword() { return try parseFor(object: false, line: token.line) }
            var items: [HCLExpression] = []
            while !isPunctuation(try peek(), "]") {
                items.append(try parseExpression())
                guard isPunctuation(try peek(), ",") else { break }
                try advance()
            }
            try expect("]", "to close '['")
            return HCLExpression(kind: .tuple(items), line: token.line)
        case .punctuation("{"):
            try advance()
            newlineModes.append(false)
            if try isForKeyword() {
                defer { newlineModes.removeLast() }
                return try parseFor(object: true, line: token.line)
            }
            newlineModes[newlineModes.count - 1] = true
            defer { newlineModes.removeLast() }
            return try parseObject(line: token.line)
        default:
            throw error("expected an expression, found \(token.kind)", token.line)
        }
    }

    /// Whether a `[` or `{` starts a `for` expression: `for` followed by a name.
    private mutating func isForKeyword() throws(ReadError) -> Bool {
        guard isKeyword(try peek(), "for") else { return false }
        if case .identifier = try peek(1).kind { return true }
        return false
    }

    /// The arguments of a call, after its name; a final `...` expands the last.
    private mutating func parseCall(_ name: String, line: Int) throws(ReadError) -> HCLExpression {
        try advance()  // (
        newlineModes.append(false)
        defer { newlineModes.removeLast() }
        var arguments: [HCLExpression] = []
        var expandsLast = false
        while !isPunctuation(try peek(), ")") {
            arguments.append(try parseExpression())
            if isPunctuation(try peek(), "...") {
                try advance()
                expandsLast = true
                break
            }
            guard isPunctuation(try peek(), ",") else { break }
            try advance()
        }
        try expect(")", "to close the arguments of '\(name)'")
        return HCLExpression(kind: .call(name, arguments, expandsLast: expandsLast), line: line)
    }

    /// The items of an object after its `{`, separated by commas or newlines.
    private mutating func parseObject(line: Int) throws(ReadError) -> HCLExpression {
        var items: [HCLExpression.ObjectItem] = []
        while true {
            var token = try peek()
            while token.kind == .newline {
                try advance()
                token = try peek()
            }
            if isPunctuation(token, "}") {
                try advance()
                return HCLExpression(kind: .object(items), line: line)
            }
            let key: HCLExpression
            var isBareKey = false
            if case .identifier = token.kind {
                let second = try peek(1)
                isBareKey = isPunctuation(second, "=") || isPunctuation(second, ":")
            }
            if isBareKey, case .identifier(let name) = token.kind {
                try advance()
                key = .string(name, line: token.line)
            } else {
                key = try parseExpression()
            }
            let separator = try peek()
            guard isPunctuation(separator, "=") || isPunctuation(separator, ":") else {
                throw error(
                    "expected '=' or ':' after an object key, found \(separator.kind)",
                    separator.line)
            }
            try advance()
            let value = try parseExpression()
            items.append(HCLExpression.ObjectItem(key: key, value: value))
            let after = try peek()
            if isPunctuation(after, ",") || after.kind == .newline {
                try advance()
            } else if !isPunctuation(after, "}") {
                throw error(
                    "expected ',', a new line or '}' in an object, found \(after.kind)", after.line)
            }
        }
    }

    /// A `for` expression after its `[` or `{`.
    private mutating func parseFor(object: Bool, line: Int) throws(ReadError) -> HCLExpression {
        try advance()  // for
        guard case .identifier(let first) = try advance().kind else {
            throw error("expected a name after 'for'", line)
        }
        var keyName: String?
        var valueName = first
        if isPunctuation(try peek(), ",") {
            try advance()
            let second = try advance()
            guard case .identifier(let name) = second.kind else {
                throw error("expected a name after ',' in 'for'", second.line)
            }
            keyName = first
            valueName = name
        }
        let keyword = try advance()
        guard isKeyword(keyword, "in") else {
            throw error("expected 'in' in 'for', found \(keyword.kind)", keyword.line)
        }
        let collection = try parseExpression()
        try expect(":", "after the collection of 'for'")
        var key: HCLExpression?
        if object {
            key = try parseExpression()
            try expect("=>", "after the key of a 'for' object")
        }
        let value = try parseExpression()
        var grouping = false
        if object, isPunctuation(try peek(), "...") {
            try advance()
            grouping = true
        }
        var condition: HCLExpression?
        if isKeyword(try peek(), "if") {
            try advance()
            condition = try parseExpression()
        }
        try expect(object ? "}" : "]", "to close 'for'")
        let clause = HCLExpression.ForClause(
            keyName: keyName, valueName: valueName, collection: collection, condition: condition)
        if let key {
            return HCLExpression(
                kind: .forObject(clause, key, value, grouping: grouping), line: line)
        }
        return HCLExpression(kind: .forTuple(clause, value), line: line)
    }

    // MARK: - Templates

    /// Reads a template from the bytes, right after its opening `"` (quoted) or its heredoc
    /// line (until `end`), switching back to tokens for each interpolation.
    private mutating func parseTemplate(
        quoted: Bool, line start: Int, end: Int = .max, indentation: Int = 0
    ) throws(ReadError) -> HCLExpression {
        guard lookahead.isEmpty else {
            throw error("internal error: a template was read past", start)
        }
        var parts: [HCLExpression.TemplatePart] = []
        var literal: [UInt8] = []
        var unsupported: String?
        var trimLeading = false
        var atLineStart = !quoted
        func flush() {
            if !literal.isEmpty {
                parts.append(.literal(String(decoding: literal, as: UTF8.self)))
                literal.removeAll()
            }
        }
        while true {
            if quoted {
                guard position < bytes.count, bytes[position] != 0x0A else {
                    throw error("the string is not closed: a '\"' is missing", start)
                }
                if bytes[position] == 0x22 {
                    position += 1
                    break
                }
            } else if position >= end {
                break
            }
            if atLineStart && indentation > 0 {
                var skipped = 0
                while skipped < indentation, position < end,
                    bytes[position] == 0x20 || bytes[position] == 0x09
                {
                    position += 1
                    skipped += 1
                }
                atLineStart = false
                continue
            }
            atLineStart = false
            let byte = bytes[position]
            if trimLeading {
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                    if byte == 0x0A { line += 1 }
                    position += 1
                    continue
                }
                trimLeading = false
            }
            if quoted && byte == 0x5C {
                try readEscape(into: &literal)
                continue
            }
            let next = self.byte(at: position + 1)
            if (byte == 0x24 || byte == 0x25) && next == byte && self.byte(at: position + 2) == 0x7B
            {
                literal += [byte, 0x7B]
                position += 3
                continue
            }
            if byte == 0x24 && next == 0x7B {
                position += 2
                if self.byte(at: position) == 0x7E {
                    position += 1
                    while let last = literal.last, [0x20, 0x09, 0x0A, 0x0D].contains(last) {
                        literal.removeLast()
                    }
                }
                flush()
                newlineModes.append(false)
                let expression = try parseExpression()
                if isPunctuation(try peek(), "~") {
                    try advance()
                    trimLeading = true
                }
                let close = try peek()
                guard isPunctuation(close, "}") else {
                    throw error(
                        "expected '}' to close '${', found \(close.kind)", close.line)
                }
                try advance()
                newlineModes.removeLast()
                guard lookahead.isEmpty else {
                    throw error("internal error: an interpolation was read past", close.line)
                }
                parts.append(.interpolation(expression))
                continue
            }
            if byte == 0x25 && next == 0x7B {
                unsupported = "template directives ('%{...}') are not supported"
                try skipDirective(start: line)
                continue
            }
            if byte == 0x0A {
                line += 1
                atLineStart = true
            }
            literal.append(byte)
            position += 1
        }
        flush()
        if let unsupported { return HCLExpression(kind: .unsupported(unsupported), line: start) }
        if parts.isEmpty { return .string("", line: start) }
        if parts.count == 1, case .literal(let text) = parts[0] {
            return .string(text, line: start)
        }
        return HCLExpression(kind: .template(parts), line: start)
    }

    /// A backslash escape of a quoted string: `\n`, `\r`, `\t`, `\"`, `\\`, `\uNNNN`,
    /// `\UNNNNNNNN`.
    private mutating func readEscape(into literal: inout [UInt8]) throws(ReadError) {
        let escapeLine = line
        guard let code = byte(at: position + 1) else {
            throw error("the string is not closed: a '\"' is missing", escapeLine)
        }
        position += 2
        switch code {
        case 0x6E: literal.append(0x0A)
        case 0x72: literal.append(0x0D)
        case 0x74: literal.append(0x09)
        case 0x22: literal.append(0x22)
        case 0x5C: literal.append(0x5C)
        case 0x75, 0x55:
            let count = code == 0x75 ? 4 : 8
            guard position + count <= bytes.count,
                let value = UInt32(text(position, position + count), radix: 16),
                let scalar = Unicode.Scalar(value)
            else {
                throw error(
                    "an escape '\\\(Character(Unicode.Scalar(code)))' needs \(count) hexadecimal digits",
                    escapeLine)
            }
            position += count
            literal += Array(String(Character(scalar)).utf8)
        default:
            throw error(
                "the escape '\\\(Character(Unicode.Scalar(code)))' is not valid in a string",
                escapeLine)
        }
    }

    /// Skips a template directive, `%{ ... }`, with any strings inside it.
    private mutating func skipDirective(start: Int) throws(ReadError) {
        position += 2
        var inString = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x0A { line += 1 }
            if inString {
                if byte == 0x5C {
                    position += 2
                    continue
                }
                if byte == 0x22 { inString = false }
            } else if byte == 0x22 {
                inString = true
            } else if byte == 0x7D {
                position += 1
                return
            }
            position += 1
        }
        throw error("a template directive '%{' is not closed", start)
    }

    /// A heredoc after its `<<MARKER` line: the lines up to the one holding only the marker;
    /// with `<<-`, their common indentation removed.
    private mutating func parseHeredoc(marker: String, indented: Bool, line start: Int)
        throws(ReadError) -> HCLExpression
    {
        let markerBytes = Array(marker.utf8)
        var index = position
        var contentEnd: Int?
        var after = position
        var minimumIndentation = Int.max
        while index < bytes.count {
            var lineEnd = index
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var first = index
            while first < lineEnd && (bytes[first] == 0x20 || bytes[first] == 0x09) { first += 1 }
            var last = lineEnd
            if last > first && bytes[last - 1] == 0x0D { last -= 1 }
            if Array(bytes[first..<last]) == markerBytes {
                contentEnd = index
                after = lineEnd
                break
            }
            if first < last { minimumIndentation = min(minimumIndentation, first - index) }
            index = lineEnd + 1
        }
        guard let contentEnd else {
            throw error("the heredoc '<<\(marker)' is not closed: no line '\(marker)'", start)
        }
        let expression = try parseTemplate(
            quoted: false, line: start, end: contentEnd,
            indentation: indented && minimumIndentation != .max ? minimumIndentation : 0)
        position = after
        return expression
    }
}
