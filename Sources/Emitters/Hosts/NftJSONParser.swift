import FoundationEssentials
import TopologyModel

/// Reads the JSON that `nft -j list ruleset` prints (`{"nftables": [{"metainfo": ...},
/// {"table": ...}, {"chain": ...}, {"rule": ...}, ...]}`) into an ``NftRuleset``, through
/// Foundation's `JSONDecoder` into the few shapes nft uses (a 38 MB ruleset of 100,000 rules
/// decodes in seconds and a few hundred MB, where `JSONSerialization` takes gigabytes). JSON has no useful lines: locations are paths such as
/// `nftables[12].rule`. Commands as `nft -j -f` reads them (`{"add": {"rule": ...}}`) are
/// read too. Each rule's `expr` statements become ``NftExpression``s: matches on payload
/// fields (`ip saddr`, `tcp dport`), meta keys and `ct state`; verdicts; counters, logs and
/// limits that decide nothing. The matches iptables-nft leaves as `xt` extensions (whose
/// parameters the JSON does not show) are unreadable, except comments.
///
/// For example: `{"rule": {"family": "inet", "table": "topogen", "chain": "input", "expr":
/// [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
/// "right": 1983}}, {"accept": null}]}}` is the rule `tcp dport 1983 accept`.
enum NftJSONParser {
    /// Reads one input into `ruleset`.
    ///
    /// - Throws: ``ReadError`` when the text is not JSON, or not in the shape of
    ///   `nft -j list ruleset` output.
    static func read(_ input: InputText, into ruleset: inout NftRuleset) throws(ReadError) {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(input.contents.utf8))
        } catch let error as DecodingError {
            throw readError(error, in: input)
        } catch {
            throw ReadError(SourceLocation(file: input.name), "not JSON: \(error)")
        }
        for (index, element) in document.nftables.enumerated() {
            let location = SourceLocation(
                file: input.name, path: "nftables[\(index)].\(element.command)")
            switch element.object {
            case .table(let table):
                _ = ruleset.table(table.family, table.name, at: location)
            case .chain(let chain):
                let table = try Self.table(chain.family, chain.table, at: location, in: ruleset)
                let index = ruleset.chain(chain.name, in: table)
                if let hook = chain.hook {
                    let type = chain.type ?? "filter"
                    let priority = chain.prio ?? 0
                    let policy = chain.policy ?? "accept"
                    ruleset.tables[table].chains[index].base = NftRuleset.Base(
                        type: type, hook: hook, priority: priority,
                        policyAccepts: policy != "drop", origin: location,
                        excerpt:
                            "type \(type) hook \(hook) priority \(priority); policy \(policy)")
                }
            case .rule(let rule):
                let table = try Self.table(rule.family, rule.table, at: location, in: ruleset)
                guard let chain = ruleset.tables[table].chain(named: rule.chain) else {
                    throw ReadError(
                        location,
                        "table '\(rule.family) \(rule.table)' has no chain '\(rule.chain)'")
                }
                var expressions = rule.expr.map(\.expression)
                if let comment = rule.comment { expressions.append(.comment(comment)) }
                let read = NftRuleset.Rule(source: .expressions(expressions), origin: location)
                if element.inserted {
                    ruleset.tables[table].chains[chain].rules.insert(read, at: 0)
                } else {
                    ruleset.tables[table].chains[chain].rules.append(read)
                }
            case .other:
                continue
            }
        }
    }

    /// The index of a table that must exist.
    private static func table(
        _ family: String, _ name: String, at location: SourceLocation, in ruleset: NftRuleset
    ) throws(ReadError) -> Int {
        guard
            let index = ruleset.tables.firstIndex(where: { $0.family == family && $0.name == name })
        else { throw ReadError(location, "there is no table '\(family) \(name)'") }
        return index
    }

    /// The error for JSON that is not nft's, at the path where the decoder stopped.
    private static func readError(_ error: DecodingError, in input: InputText) -> ReadError {
        let (context, what): (DecodingError.Context?, String) =
            switch error {
            case .dataCorrupted(let context): (context, "not JSON")
            case .keyNotFound(let key, let context):
                (context, "no '\(key.stringValue)'")
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                (context, "a value of the wrong type")
            @unknown default: (nil, "not in the shape of nft -j output")
            }
        let path = (context?.codingPath ?? []).reduce("") { path, key in
            key.intValue.map { "\(path)[\($0)]" }
                ?? (path.isEmpty ? key.stringValue : "\(path).\(key.stringValue)")
        }
        if what == "no 'nftables'" || (path.isEmpty && what != "not JSON") {
            return ReadError(
                SourceLocation(file: input.name), "no 'nftables' list in the JSON",
                hint: "give the output of 'nft -j list ruleset'")
        }
        return ReadError(
            SourceLocation(file: input.name, path: path.isEmpty ? nil : path), what,
            hint: "give the output of 'nft -j list ruleset'")
    }
}

/// Any key of a JSON object.
private struct AnyKey: CodingKey {
    /// The key.
    var stringValue: String
    /// No integer keys.
    var intValue: Int? { nil }
    /// A key.
    init(stringValue: String) { self.stringValue = stringValue }
    /// No integer keys.
    init?(intValue: Int) { nil }
}

/// `{"nftables": [...]}`.
private struct Document: Decodable {
    /// The elements.
    var nftables: [Element]
}

/// One element of the list: `{"table": ...}`, `{"chain": ...}`, `{"rule": ...}`, another
/// object nft lists (`set`, `map`, `metainfo`, ...), or a command wrapping one (`{"add": ...}`).
private struct Element: Decodable {
    enum Object {
        case table(Table)
        case chain(Chain)
        case rule(Rule)
        case other
    }

    struct Table: Decodable {
        var family: String
        var name: String
    }

    struct Chain: Decodable {
        var family: String
        var table: String
        var name: String
        var type: String?
        var hook: String?
        var prio: Int?
        var policy: String?
    }

    struct Rule: Decodable {
        var family: String
        var table: String
        var chain: String
        var expr: [Statement]
        var comment: String?
    }

    /// The element's kind: `table`, `chain`, `rule`, ...
    var command: String
    /// What it holds.
    var object: Object
    /// Whether it is an `insert` command.
    var inserted = false

    /// Decodes an element of one key.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        guard let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "an empty object"))
        }
        command = key.stringValue
        switch command {
        case "table": object = .table(try container.decode(Table.self, forKey: key))
        case "chain": object = .chain(try container.decode(Chain.self, forKey: key))
        case "rule": object = .rule(try container.decode(Rule.self, forKey: key))
        case "add", "create", "insert":
            let inner = try container.decode(Element.self, forKey: key)
            object = inner.object
            inserted = command == "insert"
            command = inner.command
        default: object = .other
        }
    }
}

/// One statement of a rule's `expr`, decoded into an expression.
private struct Statement: Decodable {
    /// What the statement is.
    var expression: NftExpression

    struct Match: Decodable {
        var op: String?
        var left: Selector
        var right: Values
    }

    struct Target: Decodable {
        var target: String
    }

    struct Extension: Decodable {
        var type: String?
        var name: String?
    }

    struct Limit: Decodable {
        var inv: Bool?
    }

    /// Decodes a statement of one key.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        guard let key = container.allKeys.first else {
            expression = .unknown("{}")
            return
        }
        switch key.stringValue {
        case "match":
            let match = try container.decode(Match.self, forKey: key)
            if let selector = match.left.selector, let values = match.right.values {
                expression = .match(selector: selector, operation: match.op ?? "==", values: values)
            } else {
                expression = .unknown(match.left.selector ?? match.left.description)
            }
        case "accept": expression = .verdict(.accept)
        case "drop", "reject": expression = .verdict(.drop)
        case "return": expression = .verdict(.returns)
        case "continue": expression = .verdict(.next)
        case "jump", "goto":
            let target = try container.decode(Target.self, forKey: key).target
            expression = .verdict(key.stringValue == "jump" ? .jump(target) : .goto(target))
        case "counter", "log", "notrack", "mangle", "meta", "ct":
            expression = .passing
        case "limit":
            let over = (try? container.decode(Limit.self, forKey: key))?.inv == true
            expression = over ? .unknown("limit rate over") : .passing
        case "xt":
            let xt = try container.decode(Extension.self, forKey: key)
            let (type, name) = (xt.type ?? "?", xt.name ?? "?")
            if type == "match" && name == "comment" {
                expression = .passing
            } else if type == "target" && name == "REJECT" {
                expression = .verdict(.drop)
            } else {
                expression = .unknown("xt \(type) \(name)")
            }
        case "queue":
            expression = .verdict(
                .unknown("'queue' hands packets to a program; the rule is not compared"))
        case "vmap":
            expression = .verdict(
                .unknown("'vmap' is not understood by topogen diff; the rule is not compared"))
        default:
            expression = .unknown(key.stringValue)
        }
    }
}

/// The left side of a match: `ip saddr`, `meta l4proto`, `ct state`; `nil` for anything else,
/// described by its key.
private struct Selector: Decodable {
    /// The selector, when read.
    var selector: String?
    /// The left side in a word, for messages.
    var description: String

    struct Fields: Decodable {
        var `protocol`: String?
        var field: String?
        var key: String?
        var dir: String?
    }

    /// Decodes a left side.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        guard let key = container.allKeys.first else {
            selector = nil
            description = "{}"
            return
        }
        description = key.stringValue
        let fields = try? container.decode(Fields.self, forKey: key)
        switch key.stringValue {
        case "payload":
            if let proto = fields?.protocol, let field = fields?.field {
                selector = "\(proto) \(field)"
            }
        case "meta":
            selector = fields?.key.map { "meta \($0)" }
        case "ct":
            if fields?.dir == nil { selector = fields?.key.map { "ct \($0)" } }
            if let key = fields?.key { description = "ct \(key)" }
        default:
            break
        }
    }
}

/// The right side of a match as nft writes its values; `nil` when not read.
private struct Values: Decodable {
    /// The values, when read.
    var values: [String]?

    struct Prefix: Decodable {
        var addr: String
        var len: Int
    }

    /// Decodes a right side: a value, a list, a set, a prefix or a range.
    init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if let text = try? single.decode(String.self) {
                values = [text]
                return
            }
            if let number = try? single.decode(Int.self) {
                values = [String(number)]
                return
            }
        }
        if var list = try? decoder.unkeyedContainer() {
            var collected: [String]? = []
            while !list.isAtEnd {
                let item = try list.decode(Values.self)
                if let items = item.values {
                    collected?.append(contentsOf: items)
                } else {
                    collected = nil
                }
            }
            values = collected
            return
        }
        let container = try decoder.container(keyedBy: AnyKey.self)
        guard let key = container.allKeys.first else {
            values = nil
            return
        }
        switch key.stringValue {
        case "set":
            values = try container.decode(Values.self, forKey: key).values
        case "prefix":
            let prefix = try container.decode(Prefix.self, forKey: key)
            values = ["\(prefix.addr)/\(prefix.len)"]
        case "range":
            let bounds = try container.decode([Values].self, forKey: key)
            if bounds.count == 2, let low = bounds[0].values, let high = bounds[1].values,
                low.count == 1, high.count == 1
            {
                values = ["\(low[0])-\(high[0])"]
            } else {
                values = nil
            }
        default:
            values = nil
        }
    }
}
