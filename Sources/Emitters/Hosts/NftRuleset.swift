import TopologyModel

/// An nftables ruleset as `nft list ruleset` prints it, as `nft -j list ruleset` describes it,
/// or as an `nft -f` file (such as topogen's) defines it: tables of chains of rules, each rule
/// read into ``NftExpression``s with where it was written.
///
/// ``program(for:)`` turns the chains that filter IP traffic into the evaluation's
/// ``HostProgram``: tables of the families `inet`, `ip` (IPv4) and `ip6` (IPv6); base chains
/// of type `filter` on the hooks `input`, `output` and `forward`, in priority order (each must
/// accept a packet: a drop in any is final, an accept passes it to the next); other chain types
/// (`nat`, `route`), other hooks (`prerouting`, `postrouting`, `ingress`) and other families
/// (`arp`, `bridge`, `netdev`) are not compared (a warning names a prerouting or postrouting
/// filter chain that drops).
///
/// For example: `table inet topogen { chain input { type filter hook input priority filter;
/// policy drop; tcp dport 1983 accept } }` is one base chain on the input hook of both
/// families.
struct NftRuleset: Sendable {
    /// A base chain's hook, type, priority and policy.
    struct Base: Sendable {
        /// `filter`, `nat` or `route`.
        var type: String
        /// `input`, `output`, `forward`, `prerouting`, ...
        var hook: String
        /// The priority, as a number.
        var priority: Int
        /// Whether the policy accepts (the default).
        var policyAccepts: Bool
        /// Where the chain's type (or policy) was written.
        var origin: SourceLocation
        /// The chain's head in a few words.
        var excerpt: String
    }

    /// One rule: its words as written (text), or its statements (JSON), read when a filter
    /// base chain reaches it.
    struct Rule: Sendable {
        /// What the rule is made of.
        enum Source: Sendable {
            /// The rule's words, from nftables text.
            case tokens([NftToken])
            /// The rule's statements, from JSON.
            case expressions([NftExpression])
        }

        /// What it is made of.
        var source: Source
        /// Where it was written.
        var origin: SourceLocation

        /// Its statements.
        var expressions: [NftExpression] {
            switch source {
            case .tokens(let tokens): NftExpression.parse(tokens)
            case .expressions(let expressions): expressions
            }
        }

        /// The rule in a few words.
        var excerpt: String {
            var parts: [String] = []
            switch source {
            case .tokens(let tokens):
                for token in tokens {
                    switch token.kind {
                    case .string: parts.append("\"\(token.text)\"")
                    case .comma: if !parts.isEmpty { parts[parts.count - 1] += "," }
                    default: parts.append(token.text)
                    }
                }
            case .expressions(let expressions):
                parts = expressions.map(\.text).filter { !$0.isEmpty }
            }
            return HostPermissions.excerpt(Substring(parts.joined(separator: " ")))
        }
    }

    /// One chain.
    struct Chain: Sendable {
        /// Its name.
        var name: String
        /// Its hook, when it is a base chain.
        var base: Base?
        /// Its rules, in order.
        var rules: [Rule] = []
    }

    /// One table.
    struct Table: Sendable {
        /// `inet`, `ip`, `ip6`, `arp`, `bridge` or `netdev`.
        var family: String
        /// Its name.
        var name: String
        /// Its chains, in order.
        var chains: [Chain] = []
        /// The index of each chain by name.
        var chainIndex: [String: Int] = [:]

        /// The index of a chain of this table, if declared.
        func chain(named name: String) -> Int? { chainIndex[name] }
        /// Where it was declared.
        var origin: SourceLocation
    }

    /// The tables, in order.
    var tables: [Table] = []

    /// The index of a table, declared here when new.
    mutating func table(_ family: String, _ name: String, at origin: SourceLocation) -> Int {
        if let index = tables.firstIndex(where: { $0.family == family && $0.name == name }) {
            return index
        }
        tables.append(Table(family: family, name: name, origin: origin))
        return tables.count - 1
    }

    /// The index of a chain of a table, declared here when new.
    mutating func chain(_ name: String, in table: Int) -> Int {
        if let index = tables[table].chainIndex[name] { return index }
        tables[table].chainIndex[name] = tables[table].chains.count
        tables[table].chains.append(Chain(name: name))
        return tables[table].chains.count - 1
    }

    /// The priority of a chain as nft writes it: a number, or a name such as `filter`,
    /// optionally plus or minus a number; `nil` when unknown.
    static func priority(_ words: [String]) -> Int? {
        let names = [
            "raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50,
            "srcnat": 100,
        ]
        guard let first = words.first, let base = Int(first) ?? names[first] else { return nil }
        guard words.count == 3, let offset = Int(words[2]) else {
            return words.count == 1 ? base : nil
        }
        switch words[1] {
        case "+": return base + offset
        case "-": return base - offset
        default: return nil
        }
    }

    /// Each chain's rules read into matches and verdicts, once for both families: those of the
    /// chains a filter base chain reaches (jumps stay within a table), so that the rules of
    /// NAT tables, for example, are never read. Indexed by table, then chain; `nil` for a
    /// chain no filter base chain reaches.
    func readRules() -> [[[(match: HostMatch, verdict: NftVerdict)]?]] {
        var reads: [[[(match: HostMatch, verdict: NftVerdict)]?]] = tables.map {
            Array(repeating: nil, count: $0.chains.count)
        }
        var pending: [(table: Int, chain: Int)] = []
        for (table, entry) in tables.enumerated() {
            for (chain, declared) in entry.chains.enumerated() where declared.base?.type == "filter"
            {
                pending.append((table, chain))
            }
        }
        while let (table, chain) = pending.popLast() {
            guard reads[table][chain] == nil else { continue }
            let rules = tables[table].chains[chain].rules.map { NftExpression.rule($0.expressions) }
            reads[table][chain] = rules
            for rule in rules {
                switch rule.verdict {
                case .jump(let name), .goto(let name):
                    if let target = tables[table].chain(named: name), reads[table][target] == nil {
                        pending.append((table, target))
                    }
                default: break
                }
            }
        }
        return reads
    }

    /// The chains that filter IP traffic of one family, as the evaluation's program, with the
    /// base chains of each path, and warnings; from rules already read (``readRules()``).
    ///
    /// - Throws: ``ReadError`` for a jump to a chain the table does not declare, or chains
    ///   that jump in a loop.
    func program(
        for family: IPFamily, reads: [[[(match: HostMatch, verdict: NftVerdict)]?]]
    ) throws(ReadError) -> (
        program: HostProgram, bases: [HostRule.Path: [HostProgram.Base]],
        diagnostics: [Diagnostic]
    ) {
        let applies = family == .ipv4 ? ["inet", "ip"] : ["inet", "ip6"]
        var chains: [HostProgram.Chain] = []
        var index: [String: Int] = [:]
        var diagnostics: [Diagnostic] = []
        var bases: [HostRule.Path: [(priority: Int, base: HostProgram.Base)]] = [:]
        for table in tables where applies.contains(table.family) {
            for chain in table.chains {
                index["\(table.family) \(table.name) \(chain.name)"] = chains.count
                chains.append(HostProgram.Chain(name: chain.name, rules: []))
            }
        }
        for (tableIndex, table) in tables.enumerated() where applies.contains(table.family) {
            for (chainIndex, chain) in table.chains.enumerated() {
                guard let position = index["\(table.family) \(table.name) \(chain.name)"],
                    let read = reads[tableIndex][chainIndex]
                else {
                    continue
                }
                var rules: [HostProgram.Rule] = []
                for (rule, read) in zip(chain.rules, read) {
                    let action: HostProgram.Action
                    switch read.verdict {
                    case .accept: action = .accept
                    case .drop: action = .drop
                    case .returns: action = .returns
                    case .next: action = .next
                    case .unknown(let reason): action = .unknown(reason)
                    case .jump(let name), .goto(let name):
                        guard let target = index["\(table.family) \(table.name) \(name)"] else {
                            throw ReadError(
                                rule.origin,
                                "'\(read.verdict.word) \(name)': table '\(table.family) \(table.name)' has no chain '\(name)'"
                            )
                        }
                        if case .goto = read.verdict {
                            action = .goto(target)
                        } else {
                            action = .jump(target)
                        }
                    }
                    rules.append(
                        HostProgram.Rule(
                            match: read.match, action: action, origin: rule.origin,
                            excerpt: rule.excerpt,
                            flows: HostPermissions.flows(inComment: read.match.comment)))
                }
                chains[position].rules = rules
                guard let base = chain.base else { continue }
                let path: HostRule.Path? =
                    switch base.hook {
                    case "input": .input
                    case "output": .output
                    case "forward": .forward
                    default: nil
                    }
                if base.type == "filter", let path {
                    bases[path, default: []].append(
                        (
                            base.priority,
                            HostProgram.Base(
                                chain: position, policyAccepts: base.policyAccepts,
                                origin: base.origin, excerpt: base.excerpt)
                        ))
                } else if base.type == "filter",
                    !base.policyAccepts || rules.contains(where: { $0.action == .drop })
                {
                    let message =
                        "\(base.origin): chain '\(chain.name)' of table '\(table.family) \(table.name)' on the \(base.hook) hook drops packets; topogen diff compares the input, output and forward hooks only"
                    if !diagnostics.contains(where: { $0.message == message }) {
                        diagnostics.append(Diagnostic(.warning, message))
                    }
                }
            }
        }
        let program = HostProgram(chains: chains)
        try program.checkLoops(file: tables.first?.origin.file ?? "")
        var ordered: [HostRule.Path: [HostProgram.Base]] = [:]
        for (path, list) in bases {
            ordered[path] = list.enumerated().sorted {
                ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset)
            }.map(\.element.base)
        }
        return (program, ordered, diagnostics)
    }
}
