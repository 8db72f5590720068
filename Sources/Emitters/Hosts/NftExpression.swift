import TopologyModel

/// One part of an nftables rule, as the text and JSON forms both describe it: a match, a
/// verdict, a comment, a statement that decides nothing, or something topogen does not read.
///
/// Matches read: `ip`/`ip6 saddr`/`daddr` (addresses, prefixes, ranges, sets, `!=`),
/// `ip protocol`, `ip6 nexthdr`, `meta l4proto`, `meta nfproto`, `meta protocol`,
/// `tcp`/`udp`/`sctp`/`udplite`/`dccp`/`th dport` and `sport` (numbers, ranges, sets,
/// comparisons), `icmp type`, `icmpv6 type` (names and numbers), `ct state`, `iifname`,
/// `oifname`, `iif`, `oif` (with `*` wildcards), `meta pkttype`. Statements that decide
/// nothing: `counter`, `log`, `limit rate` (taken to match), `notrack`, `... set ...`.
/// Anything else (`fib`, `socket`, `meta mark`, `ct status`, named sets `@name`, maps,
/// `vmap`, concatenations, bit operations) makes the rule unreadable.
///
/// For example: `ip saddr 10.0.0.0/8 tcp dport { 22, 443 } accept` is two matches and a
/// verdict.
enum NftExpression: Hashable, Sendable {
    /// A match: a selector such as `ip saddr`, an operation (`==`, `!=`, `<`, `>`, `<=`, `>=`,
    /// `in`), and values as nft writes them (`10.0.0.0/8`, `1000-2000`, `established`).
    case match(selector: String, operation: String, values: [String])
    /// A verdict.
    case verdict(NftVerdict)
    /// The rule's comment.
    case comment(String)
    /// A statement that decides nothing: `counter`, `log`, `limit`, ...
    case passing
    /// Something topogen does not read, as written.
    case unknown(String)

    /// A rule's match and verdict.
    static func rule(_ expressions: [NftExpression]) -> (match: HostMatch, verdict: NftVerdict) {
        var match = HostMatch()
        var verdict = NftVerdict.next
        for expression in expressions {
            switch expression {
            case .match(let selector, let operation, let values):
                apply(selector, operation, values, to: &match)
            case .verdict(let decided): verdict = decided
            case .comment(let text): match.comment = text
            case .passing: break
            case .unknown(let text):
                match.unreadable.append(
                    "'\(text)' is not understood by topogen diff; the rule is not compared")
            }
        }
        return (match, verdict)
    }

    /// The match as nft writes it, for messages and excerpts.
    var text: String {
        switch self {
        case .match(let selector, let operation, let values):
            let value = values.count == 1 ? values[0] : "{ \(values.joined(separator: ", ")) }"
            return operation == "==" || operation == "in"
                ? "\(selector) \(value)" : "\(selector) \(operation) \(value)"
        case .verdict(let verdict): return verdict.text
        case .comment(let text): return "comment \"\(text)\""
        case .passing: return ""
        case .unknown(let text): return text
        }
    }

    /// Port names nft accepts that rules commonly use.
    private static let services: [String: UInt16] = [
        "ssh": 22, "smtp": 25, "domain": 53, "http": 80, "https": 443, "ntp": 123,
        "postgresql": 5432,
    ]

    /// Adds one match to a rule's match.
    static func apply(
        _ selector: String, _ operation: String, _ values: [String], to match: inout HostMatch
    ) {
        let negated = operation == "!="
        var written: String {
            NftExpression.match(selector: selector, operation: operation, values: values).text
        }
        func unreadable(_ why: String = "is not understood by topogen diff") {
            match.unreadable.append("'\(written)' \(why); the rule is not compared")
        }
        let equality = operation == "==" || operation == "!=" || operation == "in"
        guard let space = selector.utf8.firstIndex(of: UInt8(ascii: " ")), !values.isEmpty else {
            unreadable()
            return
        }
        let words = [
            String(selector[..<space]), String(selector[selector.utf8.index(after: space)...]),
        ]
        switch (words[0], words[1]) {
        case ("ip", "saddr"), ("ip", "daddr"), ("ip6", "saddr"), ("ip6", "daddr"):
            let family: IPFamily = words[0] == "ip" ? .ipv4 : .ipv6
            match.require(family)
            guard equality else { return unreadable() }
            var ranges: [ClosedRange<UInt128>] = []
            for value in values {
                guard let (parsed, range) = HostAddress.parse(Substring(value)),
                    parsed == family
                else { return unreadable("names no address topogen diff reads") }
                ranges.append(range)
            }
            let condition = HostMatch.Addresses(
                family: family, set: IntervalSet(ranges), negated: negated, text: written)
            if words[1] == "saddr" {
                match.sources.append(condition)
            } else {
                match.destinations.append(condition)
            }
        case ("ip", "protocol"), ("ip6", "nexthdr"), ("meta", "l4proto"):
            if words[0] == "ip" { match.require(.ipv4) }
            if words[0] == "ip6" { match.require(.ipv6) }
            guard equality else { return unreadable() }
            var protocols = ProtocolBits.none
            for value in values {
                guard let number = protocolNumber(value) else { return unreadable() }
                protocols = protocols.union(ProtocolBits(number))
            }
            match.restrict(protocols: negated ? ProtocolBits.all.subtracting(protocols) : protocols)
        case ("meta", "nfproto"), ("meta", "protocol"):
            guard equality else { return unreadable() }
            var families: Set<IPFamily> = []
            for value in values {
                switch value {
                case "ipv4", "ip": families.insert(.ipv4)
                case "ipv6", "ip6": families.insert(.ipv6)
                default: break
                }
            }
            if negated { families = Set(IPFamily.allCases).subtracting(families) }
            if families.isEmpty {
                match.never = true
            } else if families.count == 1, let family = families.first {
                match.require(family)
            }
        case ("tcp", "dport"), ("udp", "dport"), ("sctp", "dport"), ("udplite", "dport"),
            ("dccp", "dport"), ("th", "dport"), ("tcp", "sport"), ("udp", "sport"),
            ("sctp", "sport"), ("udplite", "sport"), ("dccp", "sport"), ("th", "sport"):
            let protocols: ProtocolBits =
                switch words[0] {
                case "tcp": .tcp
                case "udp": .udp
                case "sctp": .sctp
                case "udplite": ProtocolBits(136)
                case "dccp": ProtocolBits(33)
                default: HostMatch.portProtocols
                }
            guard var ports = self.ports(values, operation) else {
                return unreadable("names ports topogen diff cannot read")
            }
            if negated { ports = IntervalSet.full.subtracting(ports) }
            if words[1] == "dport" {
                match.restrict(ports: ports, of: protocols)
            } else {
                match.restrict(protocols: protocols)
                match.sourcePorts.append(HostMatch.SourcePorts(ports: ports, text: written))
            }
        case ("icmp", "type"), ("icmpv6", "type"):
            let isV6 = words[0] == "icmpv6"
            match.require(isV6 ? .ipv6 : .ipv4)
            guard equality else { return unreadable() }
            var types: [ClosedRange<UInt16>] = []
            for value in values {
                if let number = UInt8(value) {
                    types.append(UInt16(number)...UInt16(number))
                } else if let number = (isV6 ? IcmpTypeNames.ipv6 : IcmpTypeNames.ipv4)[value] {
                    types.append(UInt16(number)...UInt16(number))
                } else {
                    return unreadable()
                }
            }
            let set = IntervalSet(types)
            match.restrict(
                ports: negated ? IntervalSet.full.subtracting(set) : set,
                of: isV6 ? .icmpv6 : .icmp)
        case ("ct", "state"):
            guard equality else { return unreadable() }
            let known: Set<String> = ["new", "established", "related", "invalid", "untracked"]
            guard values.allSatisfy(known.contains) else { return unreadable() }
            if values.contains("new") == negated { match.never = true }
        case ("meta", "iifname"), ("meta", "oifname"), ("meta", "iif"), ("meta", "oif"):
            guard equality else { return unreadable() }
            let patterns = values.map {
                $0.hasSuffix("*")
                    ? HostMatch.Interface.Pattern(name: String($0.dropLast()), isPrefix: true)
                    : HostMatch.Interface.Pattern(name: $0, isPrefix: false)
            }
            let condition = HostMatch.Interface(patterns: patterns, negated: negated)
            if words[1].hasPrefix("i") {
                match.inInterfaces.append(condition)
            } else {
                match.outInterfaces.append(condition)
            }
        case ("meta", "pkttype"):
            guard equality else { return unreadable() }
            let unicast = values.contains("host") || values.contains("unicast")
            if unicast == negated { match.never = true }
        default:
            unreadable()
        }
    }

    /// A protocol as nft names it, or its number.
    private static func protocolNumber(_ value: String) -> UInt8? {
        switch value {
        case "udplite": 136
        case "dccp": 33
        case "igmp": 2
        default: ProtocolSet.number(named: value)
        }
    }

    /// Ports from values (`22`, `1000-2000`, names) and an operation (`<`, `>=`, ...).
    private static func ports(_ values: [String], _ operation: String) -> IntervalSet<UInt16>? {
        func port(_ text: Substring) -> UInt16? { UInt16(text) ?? services[String(text)] }
        if ["<", ">", "<=", ">=", "lt", "gt", "le", "ge"].contains(operation) {
            guard values.count == 1, let value = port(Substring(values[0])) else { return nil }
            switch operation {
            case "<", "lt": return value == 0 ? .empty : IntervalSet(0...(value - 1))
            case "<=", "le": return IntervalSet(0...value)
            case ">", "gt": return value == 65535 ? .empty : IntervalSet((value + 1)...65535)
            default: return IntervalSet(value...65535)
            }
        }
        var ranges: [ClosedRange<UInt16>] = []
        for value in values {
            let bounds = value.split(separator: "-", maxSplits: 1)
            guard let low = bounds.first.flatMap(port), let high = bounds.last.flatMap(port),
                low <= high
            else { return nil }
            ranges.append(low...high)
        }
        return IntervalSet(ranges)
    }
}

/// What an nftables rule decides.
enum NftVerdict: Hashable, Sendable {
    /// `accept`.
    case accept
    /// `drop` or `reject`.
    case drop
    /// `return`.
    case returns
    /// No verdict, or `continue`: the next rule decides.
    case next
    /// `jump CHAIN`.
    case jump(String)
    /// `goto CHAIN`.
    case goto(String)
    /// A verdict topogen does not read (`queue`, a verdict map), with why.
    case unknown(String)

    /// The verdict's keyword.
    var word: String {
        switch self {
        case .accept: "accept"
        case .drop: "drop"
        case .returns: "return"
        case .next: "continue"
        case .jump: "jump"
        case .goto: "goto"
        case .unknown: "queue"
        }
    }

    /// The verdict as nft writes it.
    var text: String {
        switch self {
        case .jump(let chain), .goto(let chain): "\(word) \(chain)"
        case .next: ""
        default: word
        }
    }
}

/// A word of nftables text with the line it is on.
struct NftToken: Hashable, Sendable {
    /// What kind of word.
    enum Kind: Hashable, Sendable {
        /// A word: a keyword, a name, a number, an address, an operator.
        case word
        /// A double-quoted string, unquoted.
        case string
        /// `{`.
        case open
        /// `}`.
        case close
        /// `,`.
        case comma
        /// `;`.
        case semicolon
        /// The end of a line.
        case newline
    }

    /// The kind.
    var kind: Kind
    /// The text (unquoted for strings).
    var text: String
    /// The 1-based line.
    var line: Int

    /// Whether the token is a word or string of this text.
    func `is`(_ word: String) -> Bool {
        (kind == .word || kind == .string) && text == word
    }
}

extension NftExpression {
    /// Words that start a statement a parser can resume at after something it does not read.
    private static let resumable: Set<String> = [
        "accept", "drop", "reject", "return", "jump", "goto", "continue", "queue", "counter",
        "comment", "log", "limit",
    ]

    /// Selectors that are meta keys written without `meta`.
    private static let bareMetaKeys: Set<String> = [
        "iifname", "oifname", "iif", "oif", "l4proto", "nfproto", "mark", "pkttype", "skuid",
        "skgid", "iiftype", "oiftype", "priority", "cgroup",
    ]

    /// Comparison operators.
    private static let operations: Set<String> = [
        "==", "!=", "eq", "ne", "<", ">", "<=", ">=", "lt", "gt", "le", "ge",
    ]

    /// The expressions of one rule written as text (without its line end).
    static func parse(_ tokens: [NftToken]) -> [NftExpression] {
        var parser = NftStatementParser(tokens: tokens)
        return parser.parse()
    }

    /// Whether a word starts a statement that parsing can resume at.
    fileprivate static func isResumable(_ token: NftToken) -> Bool {
        token.kind == .word && resumable.contains(token.text)
    }
    /// Whether a word is a meta key written without `meta`.
    fileprivate static func isBareMetaKey(_ word: String) -> Bool { bareMetaKeys.contains(word) }
    /// Whether a word is a comparison.
    fileprivate static func isOperation(_ word: String) -> Bool { operations.contains(word) }
}

/// Reads the statements of one rule's tokens.
private struct NftStatementParser {
    /// The rule's words.
    let tokens: [NftToken]
    /// The word being read.
    var position = 0
    /// What was read so far.
    var expressions: [NftExpression] = []

    /// The word or string `offset` words ahead, if any.
    func word(_ offset: Int = 0) -> String? {
        let index = position + offset
        guard index < tokens.count, tokens[index].kind == .word || tokens[index].kind == .string
        else { return nil }
        return tokens[index].text
    }

    /// The tokens from `start` to the current position, as written.
    func written(from start: Int) -> String {
        var parts: [String] = []
        for token in tokens[start..<min(position, tokens.count)] {
            switch token.kind {
            case .string: parts.append("\"\(token.text)\"")
            case .comma: if !parts.isEmpty { parts[parts.count - 1] += "," }
            default: parts.append(token.text)
            }
        }
        return parts.joined(separator: " ")
    }

    /// Skips to the next statement a parser can resume at, over braces.
    mutating func skipToResumable() {
        var depth = 0
        while position < tokens.count {
            let token = tokens[position]
            if token.kind == .open { depth += 1 }
            if token.kind == .close { depth -= 1 }
            if depth <= 0 && NftExpression.isResumable(token) { return }
            position += 1
        }
    }

    /// Skips a limit's rate (`10/second`, `1 mbytes/second`) and burst (`burst 5 packets`).
    mutating func skipLimitRate() {
        if let value = word(), Int(value) != nil, let unit = word(1), unit.contains("/") {
            position += 2
        } else {
            position += 1
        }
        if word() == "burst" {
            position += 2
            if let unit = word(), ["packets", "bytes", "kbytes", "mbytes"].contains(unit) {
                position += 1
            }
        }
    }

    /// Records what is not read from `start` on, and skips it.
    mutating func unknown(from start: Int) {
        skipToResumable()
        if position == start { position += 1 }
        expressions.append(.unknown(written(from: start)))
    }

    /// Reads every statement.
    mutating func parse() -> [NftExpression] {
        while position < tokens.count {
            let start = position
            guard let word = word() else {
                unknown(from: start)
                continue
            }
            switch word {
            case "accept", "drop", "return", "continue":
                let verdict: NftVerdict =
                    switch word {
                    case "accept": .accept
                    case "drop": .drop
                    case "return": .returns
                    default: .next
                    }
                expressions.append(.verdict(verdict))
                position += 1
            case "reject":
                expressions.append(.verdict(.drop))
                position += 1
                if self.word() == "with" {
                    position += 1
                    skipToResumable()
                }
            case "queue":
                position += 1
                skipToResumable()
                expressions.append(
                    .verdict(
                        .unknown(
                            "'\(written(from: start))' hands packets to a program; the rule is not compared"
                        )))
            case "jump", "goto":
                guard let target = self.word(1) else {
                    unknown(from: start)
                    continue
                }
                expressions.append(.verdict(word == "jump" ? .jump(target) : .goto(target)))
                position += 2
            case "counter":
                position += 1
                if self.word() == "packets" {
                    position += 4
                } else if self.word() == "name" {
                    position += 2
                }
                expressions.append(.passing)
            case "notrack":
                position += 1
                expressions.append(.passing)
            case "log":
                // Only its own arguments: matches may follow.
                position += 1
                while let key = self.word(),
                    ["prefix", "level", "group", "snaplen", "queue-threshold", "flags"].contains(
                        key)
                {
                    position += 1
                    // `flags tcp sequence,options`, `flags ip options`, `flags all`.
                    if key == "flags", let group = self.word(), group == "tcp" || group == "ip" {
                        position += 1
                    }
                    position += 1
                    while position + 1 < tokens.count && tokens[position].kind == .comma {
                        position += 2
                    }
                }
                expressions.append(.passing)
            case "limit":
                position += 1
                guard self.word() == "rate" else {
                    unknown(from: start)
                    continue
                }
                if self.word(1) == "over" {
                    position += 2
                    skipLimitRate()
                    expressions.append(.unknown(written(from: start)))
                    continue
                }
                position += 1
                skipLimitRate()
                expressions.append(.passing)
            case "comment":
                if let text = self.word(1) {
                    expressions.append(.comment(text))
                }
                position += 2
            case "meta", "ct", "ip", "ip6", "tcp", "udp", "sctp", "udplite", "dccp", "th", "icmp",
                "icmpv6":
                guard let field = self.word(1) else {
                    unknown(from: start)
                    continue
                }
                position += 2
                readMatch("\(word) \(field)", from: start)
            default:
                if NftExpression.isBareMetaKey(word) {
                    position += 1
                    readMatch("meta \(word)", from: start)
                } else {
                    unknown(from: start)
                }
            }
        }
        return expressions
    }

    /// Reads a match's operation and value after its selector.
    mutating func readMatch(_ selector: String, from start: Int) {
        if word() == "set" {
            // A statement that sets a mark or priority: it decides nothing.
            position += 1
            skipToResumable()
            expressions.append(.passing)
            return
        }
        var operation = "=="
        if let word = word(), NftExpression.isOperation(word) {
            operation =
                switch word {
                case "eq": "=="
                case "ne": "!="
                default: word
                }
            position += 1
        }
        guard position < tokens.count else {
            unknown(from: start)
            return
        }
        var values: [String] = []
        if tokens[position].kind == .open {
            position += 1
            while position < tokens.count && tokens[position].kind != .close {
                switch tokens[position].kind {
                case .word, .string: values.append(tokens[position].text)
                case .comma, .newline: break
                default:
                    unknown(from: start)
                    return
                }
                position += 1
            }
            position += 1
        } else if let value = word(), value.hasPrefix("@") {
            // A named set: what it holds is not in the rule.
            position += 1
            expressions.append(.unknown(written(from: start)))
            return
        } else if word() == "vmap" {
            // A verdict map: the verdict depends on the value.
            skipToResumable()
            expressions.append(
                .verdict(
                    .unknown(
                        "'\(written(from: start))' is not understood by topogen diff; the rule is not compared"
                    )))
            return
        } else if let value = word(), !value.hasPrefix("$"),
            !["map", ".", "&", "|", "^", "<<", ">>"].contains(value)
        {
            values.append(value)
            position += 1
            while position + 1 < tokens.count && tokens[position].kind == .comma,
                let next = word(1)
            {
                values.append(next)
                position += 2
            }
        } else {
            unknown(from: start)
            return
        }
        if word() == "vmap" {
            skipToResumable()
            expressions.append(
                .verdict(
                    .unknown(
                        "'\(written(from: start))' is not understood by topogen diff; the rule is not compared"
                    )))
            return
        }
        if let next = word(), [".", "&", "|", "^", "map"].contains(next) {
            unknown(from: start)
            return
        }
        expressions.append(.match(selector: selector, operation: operation, values: values))
    }
}
