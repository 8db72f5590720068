import TopologyModel

/// Reads nftables text into an ``NftRuleset``: the output of `nft list ruleset`, and files for
/// `nft -f` such as topogen's (`table`, `add`/`create table`, `add`/`create chain`, `add` and
/// `insert rule`, `delete table`, `flush ruleset`/`table`/`chain`, `define` with `$name`
/// substituted). Sets, maps, flowtables and stateful objects in a table are skipped (a rule
/// that uses one is unreadable); `include` is an error that asks for the included files.
///
/// For example: `table inet topogen { chain input { type filter hook input priority filter;
/// policy drop; iifname "lo" accept } }` is one table with one base chain and one rule.
struct NftTextParser {
    /// The file, for locations.
    private let file: String
    /// The words of the whole text.
    private var tokens: [NftToken] = []
    /// The word being read.
    private var position = 0
    /// The values of `define`d names.
    private var defines: [String: [NftToken]] = [:]

    /// The families nft knows.
    static let families: Set<String> = ["ip", "ip6", "inet", "arp", "bridge", "netdev"]

    /// Reads one input into `ruleset`.
    ///
    /// - Throws: ``ReadError`` when the text is not nftables syntax, with the line.
    static func read(_ input: InputText, into ruleset: inout NftRuleset) throws(ReadError) {
        var parser = NftTextParser(file: input.name)
        parser.tokens = try parser.tokenize(input.contents)
        try parser.parse(into: &ruleset)
    }

    /// A parser of one file.
    private init(file: String) {
        self.file = file
    }

    /// A line of the file.
    private func location(_ line: Int) -> SourceLocation { SourceLocation(file: file, line: line) }

    /// The error of a problem at a line.
    private func fail(_ message: String, at line: Int, hint: String? = nil) -> ReadError {
        ReadError(location(line), message, hint: hint)
    }

    // MARK: Words

    /// The words of a text, with their lines; comments and line continuations left out.
    private func tokenize(_ text: String) throws(ReadError) -> [NftToken] {
        let bytes = Array(text.utf8)
        var tokens: [NftToken] = []
        var line = 1
        var index = 0
        func isSpecial(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"),
                UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ";"),
                UInt8(ascii: "\""), UInt8(ascii: "#"):
                true
            default: false
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "\n"):
                tokens.append(NftToken(kind: .newline, text: "", line: line))
                line += 1
                index += 1
            case UInt8(ascii: "\\")
            where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"):
                line += 1
                index += 2
            case UInt8(ascii: "#"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ";"):
                let kind: NftToken.Kind =
                    switch byte {
                    case UInt8(ascii: "{"): .open
                    case UInt8(ascii: "}"): .close
                    case UInt8(ascii: ","): .comma
                    default: .semicolon
                    }
                tokens.append(NftToken(kind: kind, text: String(UnicodeScalar(byte)), line: line))
                index += 1
            case UInt8(ascii: "\""):
                var end = index + 1
                var text: [UInt8] = []
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") {
                    if bytes[end] == UInt8(ascii: "\\") && end + 1 < bytes.count { end += 1 }
                    if bytes[end] == UInt8(ascii: "\n") { break }
                    text.append(bytes[end])
                    end += 1
                }
                guard end < bytes.count && bytes[end] == UInt8(ascii: "\"") else {
                    throw fail("unterminated string", at: line)
                }
                tokens.append(
                    NftToken(kind: .string, text: String(decoding: text, as: UTF8.self), line: line)
                )
                index = end + 1
            default:
                let start = index
                while index < bytes.count && !isSpecial(bytes[index]) { index += 1 }
                tokens.append(
                    NftToken(
                        kind: .word, text: String(decoding: bytes[start..<index], as: UTF8.self),
                        line: line))
            }
        }
        tokens.append(NftToken(kind: .newline, text: "", line: line))
        return tokens
    }

    /// The word being read, or a line end past the last.
    private var current: NftToken {
        position < tokens.count
            ? tokens[position] : NftToken(kind: .newline, text: "", line: tokens.last?.line ?? 1)
    }

    /// The word being read, which must be a word or string (`$name` replaced by its value).
    private mutating func word(_ what: String) throws(ReadError) -> String {
        let token = current
        guard token.kind == .word || token.kind == .string else {
            throw fail(
                "expected \(what) after '\(tokens[max(position - 1, 0)].text)'", at: token.line)
        }
        position += 1
        if token.text.hasPrefix("$"), let value = defines[String(token.text.dropFirst())],
            value.count == 1
        {
            return value[0].text
        }
        return token.text
    }

    /// Skips line ends and `;`.
    private mutating func skipSeparators() {
        while position < tokens.count
            && (tokens[position].kind == .newline || tokens[position].kind == .semicolon)
        {
            position += 1
        }
    }

    /// The tokens up to the end of the statement (a line end or `;` outside braces), or to a
    /// `}` that closes the enclosing block, which is not consumed.
    private mutating func statement() -> [NftToken] {
        var collected: [NftToken] = []
        var depth = 0
        while position < tokens.count {
            let token = tokens[position]
            switch token.kind {
            case .open: depth += 1
            case .close:
                if depth == 0 { return collected }
                depth -= 1
            case .newline, .semicolon:
                if depth == 0 {
                    position += 1
                    return collected
                }
                if token.kind == .newline {
                    position += 1
                    continue
                }
            default: break
            }
            if token.kind == .word, token.text.hasPrefix("$"),
                let value = defines[String(token.text.dropFirst())]
            {
                collected += value.map { NftToken(kind: $0.kind, text: $0.text, line: token.line) }
            } else {
                collected.append(token)
            }
            position += 1
        }
        return collected
    }

    /// Skips a balanced `{ ... }` block, the current token being `{`.
    private mutating func skipBlock() throws(ReadError) {
        let open = current.line
        var depth = 0
        while position < tokens.count {
            switch tokens[position].kind {
            case .open: depth += 1
            case .close:
                depth -= 1
                if depth == 0 {
                    position += 1
                    return
                }
            default: break
            }
            position += 1
        }
        throw fail("'{' is never closed", at: open)
    }

    /// Reads a word of one kind, or fails.
    private mutating func expect(_ kind: NftToken.Kind, _ what: String) throws(ReadError) {
        guard current.kind == kind else {
            throw fail("expected '\(what)', found '\(current.text)'", at: current.line)
        }
        position += 1
    }

    /// A table's family and name: `inet topogen`, or `filter` for `ip filter`.
    private mutating func tableName() throws(ReadError) -> (String, String) {
        let first = try word("a table")
        if Self.families.contains(first), current.kind == .word || current.kind == .string {
            return (first, try word("a table name"))
        }
        return ("ip", first)
    }

    // MARK: Commands

    /// Reads every command of the text.
    private mutating func parse(into ruleset: inout NftRuleset) throws(ReadError) {
        while true {
            skipSeparators()
            guard position < tokens.count else { return }
            let token = current
            let command = try word("a command")
            switch command {
            case "table":
                try table(into: &ruleset, at: token.line)
            case "add", "create", "insert":
                let object = try word("'table', 'chain' or 'rule'")
                switch object {
                case "table" where command != "insert":
                    try table(into: &ruleset, at: token.line)
                case "chain" where command != "insert":
                    let (family, name) = try tableName()
                    let chain = try word("a chain name")
                    let table = try existing(family, name, in: ruleset, at: token.line)
                    let index = ruleset.chain(chain, in: table)
                    if current.kind == .open {
                        position += 1
                        try chainBody(table: table, chain: index, at: token.line, into: &ruleset)
                    }
                case "rule":
                    let (family, name) = try tableName()
                    let chain = try word("a chain name")
                    let table = try existing(family, name, in: ruleset, at: token.line)
                    guard
                        let index = ruleset.tables[table].chain(named: chain)
                    else {
                        throw fail(
                            "table '\(family) \(name)' has no chain '\(chain)'", at: token.line)
                    }
                    var words = statement()
                    if let first = words.first,
                        ["position", "index", "handle"].contains(first.text)
                    {
                        words.removeFirst(min(2, words.count))
                    }
                    let rule = Self.rule(words, file: file, line: token.line)
                    if command == "insert" {
                        ruleset.tables[table].chains[index].rules.insert(rule, at: 0)
                    } else {
                        ruleset.tables[table].chains[index].rules.append(rule)
                    }
                default:
                    throw fail("'\(command) \(object)' is not read by topogen diff", at: token.line)
                }
            case "delete", "destroy":
                let object = try word("'table'")
                guard object == "table" else {
                    throw fail("'\(command) \(object)' is not read by topogen diff", at: token.line)
                }
                let (family, name) = try tableName()
                ruleset.tables.removeAll { $0.family == family && $0.name == name }
            case "flush":
                let object = try word("'ruleset', 'table' or 'chain'")
                switch object {
                case "ruleset":
                    _ = statement()
                    ruleset.tables = []
                case "table":
                    let (family, name) = try tableName()
                    let table = try existing(family, name, in: ruleset, at: token.line)
                    for chain in ruleset.tables[table].chains.indices {
                        ruleset.tables[table].chains[chain].rules = []
                    }
                case "chain":
                    let (family, name) = try tableName()
                    let chain = try word("a chain name")
                    let table = try existing(family, name, in: ruleset, at: token.line)
                    if let index = ruleset.tables[table].chain(named: chain) {
                        ruleset.tables[table].chains[index].rules = []
                    }
                default:
                    throw fail("'flush \(object)' is not read by topogen diff", at: token.line)
                }
            case "define", "redefine":
                let name = try word("a name")
                try expect(.word, "=")
                defines[name] = statement()
            case "undefine":
                defines[try word("a name")] = nil
            case "include":
                throw fail(
                    "'include' is not read by topogen diff", at: token.line,
                    hint: "give the included files as --against files too")
            default:
                throw fail(
                    "'\(command)' is not nftables syntax",
                    at: token.line,
                    hint:
                        "give the output of 'nft list ruleset' or 'nft -j list ruleset', or a file for 'nft -f'"
                )
            }
        }
    }

    /// The index of a table that must exist.
    private func existing(_ family: String, _ name: String, in ruleset: NftRuleset, at line: Int)
        throws(ReadError) -> Int
    {
        guard
            let index = ruleset.tables.firstIndex(where: { $0.family == family && $0.name == name })
        else { throw fail("there is no table '\(family) \(name)'", at: line) }
        return index
    }

    /// Reads `table FAMILY NAME [{ ... }]`.
    private mutating func table(into ruleset: inout NftRuleset, at line: Int) throws(ReadError) {
        let (family, name) = try tableName()
        guard Self.families.contains(family) else {
            throw fail("'\(family)' is no nftables family", at: line)
        }
        let table = ruleset.table(family, name, at: location(line))
        guard current.kind == .open else { return }
        position += 1
        while true {
            skipSeparators()
            if current.kind == .close {
                position += 1
                return
            }
            guard position < tokens.count else {
                throw fail("table '\(name)' is never closed", at: line)
            }
            let token = current
            let keyword = try word("'chain', 'set' or '}'")
            switch keyword {
            case "chain":
                let chain = ruleset.chain(try word("a chain name"), in: table)
                try expect(.open, "{")
                try chainBody(table: table, chain: chain, at: token.line, into: &ruleset)
            case "set", "map", "flowtable", "counter", "quota", "limit", "secmark", "synproxy",
                "ct":
                while position < tokens.count && current.kind != .open && current.kind != .newline {
                    position += 1
                }
                if current.kind == .open { try skipBlock() }
            case "flags", "comment":
                _ = statement()
            default:
                throw fail("'\(keyword)' is not read in a table by topogen diff", at: token.line)
            }
        }
    }

    /// Reads a chain's body up to its `}`: its type, policy and rules.
    private mutating func chainBody(
        table: Int, chain: Int, at opening: Int, into ruleset: inout NftRuleset
    ) throws(ReadError) {
        while true {
            skipSeparators()
            if current.kind == .close {
                position += 1
                return
            }
            guard position < tokens.count else {
                let name = ruleset.tables[table].chains[chain].name
                throw fail("chain '\(name)' is never closed", at: opening)
            }
            let line = current.line
            let words = statement()
            guard let first = words.first else { continue }
            switch first.kind == .word ? first.text : "" {
            case "type":
                let texts = words.map(\.text)
                guard texts.count >= 6, let hook = texts.firstIndex(of: "hook"),
                    let priority = texts.firstIndex(of: "priority"), hook + 1 < texts.count
                else {
                    throw fail("'\(texts.joined(separator: " "))' is no chain type", at: line)
                }
                var base = ruleset.tables[table].chains[chain].base
                let value = NftRuleset.priority(Array(texts[(priority + 1)...])) ?? 0
                base = NftRuleset.Base(
                    type: texts[1], hook: texts[hook + 1], priority: value,
                    policyAccepts: base?.policyAccepts ?? true, origin: location(line),
                    excerpt: texts.joined(separator: " "))
                ruleset.tables[table].chains[chain].base = base
            case "policy":
                guard words.count == 2, ["accept", "drop"].contains(words[1].text) else {
                    throw fail(
                        "'\(words.map(\.text).joined(separator: " "))' is no chain policy", at: line
                    )
                }
                ruleset.tables[table].chains[chain].base?.policyAccepts = words[1].text == "accept"
                if let type = ruleset.tables[table].chains[chain].base {
                    ruleset.tables[table].chains[chain].base?.excerpt =
                        "\(type.excerpt); policy \(words[1].text)"
                }
            case "comment", "devices", "device":
                continue
            default:
                ruleset.tables[table].chains[chain].rules.append(
                    Self.rule(words, file: file, line: line))
            }
        }
    }

    /// One rule's tokens as a rule.
    static func rule(_ words: [NftToken], file: String, line: Int) -> NftRuleset.Rule {
        NftRuleset.Rule(source: .tokens(words), origin: SourceLocation(file: file, line: line))
    }
}
