import Foundation
import TopologyModel

/// Reads the JSON that `nft -j list ruleset` prints (`{"nftables": [{"metainfo": ...},
/// {"table": ...}, {"chain": ...}, {"rule": ...}, ...]}`) into an ``NftRuleset``, through
/// Foundation's `JSONSerialization`. JSON has no useful lines: locations are paths such as
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
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(input.contents.utf8))
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw ReadError(
                SourceLocation(file: input.name),
                "not JSON\(detail.map { ": \($0)" } ?? "")",
                hint: "give the output of 'nft -j list ruleset' or 'nft list ruleset'")
        }
        guard let object = root as? [String: Any], let list = object["nftables"] as? [Any] else {
            throw ReadError(
                SourceLocation(file: input.name), "no 'nftables' list in the JSON",
                hint: "give the output of 'nft -j list ruleset'")
        }
        for (index, element) in list.enumerated() {
            guard let entry = element as? [String: Any], entry.count == 1,
                let (key, value) = entry.first
            else {
                throw ReadError(
                    SourceLocation(file: input.name, path: "nftables[\(index)]"),
                    "not an object of one key such as 'table', 'chain' or 'rule'")
            }
            var command = key
            var body = value
            var inserted = false
            if ["add", "create", "insert"].contains(key), let inner = value as? [String: Any],
                inner.count == 1, let (innerKey, innerValue) = inner.first
            {
                command = innerKey
                body = innerValue
                inserted = key == "insert"
            }
            let location = SourceLocation(file: input.name, path: "nftables[\(index)].\(command)")
            guard let fields = body as? [String: Any] else {
                if command == "metainfo" { continue }
                throw ReadError(location, "'\(command)' is not an object")
            }
            switch command {
            case "table":
                let family = try string(fields, "family", at: location)
                let name = try string(fields, "name", at: location)
                _ = ruleset.table(family, name, at: location)
            case "chain":
                let (table, name) = try chain(fields, at: location, in: &ruleset)
                let chain = ruleset.chain(name, in: table)
                if let hook = fields["hook"] as? String {
                    let type = fields["type"] as? String ?? "filter"
                    let priority = fields["prio"] as? Int ?? 0
                    let policy = fields["policy"] as? String ?? "accept"
                    ruleset.tables[table].chains[chain].base = NftRuleset.Base(
                        type: type, hook: hook, priority: priority,
                        policyAccepts: policy != "drop", origin: location,
                        excerpt:
                            "type \(type) hook \(hook) priority \(priority); policy \(policy)")
                }
            case "rule":
                let (table, name) = try chain(fields, at: location, in: &ruleset)
                guard
                    let chain = ruleset.tables[table].chains.firstIndex(where: { $0.name == name })
                else {
                    throw ReadError(
                        location, "table '\(ruleset.tables[table].name)' has no chain '\(name)'")
                }
                guard let statements = fields["expr"] as? [Any] else {
                    throw ReadError(location, "the rule has no 'expr' list")
                }
                var expressions = statements.map(expression)
                if let comment = fields["comment"] as? String {
                    expressions.append(.comment(comment))
                }
                let text = expressions.map(\.text).filter { !$0.isEmpty }.joined(separator: " ")
                let rule = NftRuleset.Rule(
                    expressions: expressions, origin: location,
                    excerpt: HostPermissions.excerpt(Substring(text)))
                if inserted {
                    ruleset.tables[table].chains[chain].rules.insert(rule, at: 0)
                } else {
                    ruleset.tables[table].chains[chain].rules.append(rule)
                }
            default:
                continue
            }
        }
    }

    private static func string(_ fields: [String: Any], _ key: String, at location: SourceLocation)
        throws(ReadError) -> String
    {
        guard let value = fields[key] as? String else {
            throw ReadError(location, "no '\(key)' string")
        }
        return value
    }

    /// The table (which must exist) and the chain name a chain or rule object names.
    private static func chain(
        _ fields: [String: Any], at location: SourceLocation, in ruleset: inout NftRuleset
    ) throws(ReadError) -> (Int, String) {
        let family = try string(fields, "family", at: location)
        let table = try string(fields, "table", at: location)
        let name = fields["name"] as? String ?? fields["chain"] as? String
        guard let name else { throw ReadError(location, "no chain name") }
        guard
            let index = ruleset.tables.firstIndex(where: { $0.family == family && $0.name == table }
            )
        else { throw ReadError(location, "there is no table '\(family) \(table)'") }
        return (index, name)
    }

    /// One statement of a rule's `expr`.
    static func expression(_ value: Any) -> NftExpression {
        guard let object = value as? [String: Any], object.count == 1,
            let (key, body) = object.first
        else { return .unknown(describe(value)) }
        switch key {
        case "match":
            guard let match = body as? [String: Any], let left = match["left"],
                let right = match["right"], let selector = selector(left),
                let values = values(right)
            else { return .unknown(describe(value)) }
            let operation = match["op"] as? String ?? "=="
            return .match(selector: selector, operation: operation, values: values)
        case "accept": return .verdict(.accept)
        case "drop", "reject": return .verdict(.drop)
        case "return": return .verdict(.returns)
        case "continue": return .verdict(.next)
        case "jump", "goto":
            guard let target = (body as? [String: Any])?["target"] as? String else {
                return .unknown(describe(value))
            }
            return .verdict(key == "jump" ? .jump(target) : .goto(target))
        case "counter", "log", "notrack", "mangle", "meta", "ct":
            return .passing
        case "limit":
            if (body as? [String: Any])?["inv"] as? Bool == true {
                return .unknown("limit rate over")
            }
            return .passing
        case "xt":
            let fields = body as? [String: Any]
            let type = fields?["type"] as? String ?? "?"
            let name = fields?["name"] as? String ?? "?"
            if type == "match" && name == "comment" { return .passing }
            if type == "target" && name == "REJECT" { return .verdict(.drop) }
            return .unknown("xt \(type) \(name)")
        default:
            return .unknown(describe(value))
        }
    }

    /// The selector of a match's left side: `ip saddr`, `meta l4proto`, `ct state`.
    private static func selector(_ left: Any) -> String? {
        guard let object = left as? [String: Any], object.count == 1,
            let (key, body) = object.first, let fields = body as? [String: Any]
        else { return nil }
        switch key {
        case "payload":
            guard let proto = fields["protocol"] as? String, let field = fields["field"] as? String
            else { return nil }
            return "\(proto) \(field)"
        case "meta":
            guard let meta = fields["key"] as? String else { return nil }
            return "meta \(meta)"
        case "ct":
            guard let ct = fields["key"] as? String, fields["dir"] == nil else { return nil }
            return "ct \(ct)"
        default:
            return nil
        }
    }

    /// A match's right side as nft writes its values.
    private static func values(_ right: Any) -> [String]? {
        if let text = right as? String { return [text] }
        if let number = right as? Int { return [String(number)] }
        if let list = right as? [Any] {
            var values: [String] = []
            for item in list {
                guard let value = Self.values(item) else { return nil }
                values += value
            }
            return values
        }
        guard let object = right as? [String: Any], object.count == 1,
            let (key, body) = object.first
        else { return nil }
        switch key {
        case "set":
            return values(body)
        case "prefix":
            guard let fields = body as? [String: Any], let address = fields["addr"] as? String,
                let length = fields["len"] as? Int
            else { return nil }
            return ["\(address)/\(length)"]
        case "range":
            guard let bounds = body as? [Any], bounds.count == 2,
                let low = values(bounds[0]), let high = values(bounds[1]),
                low.count == 1, high.count == 1
            else { return nil }
            return ["\(low[0])-\(high[0])"]
        default:
            return nil
        }
    }

    /// A JSON value in a few words, for messages.
    private static func describe(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]),
            let text = String(data: data, encoding: .utf8)
        else { return "\(value)" }
        return HostPermissions.excerpt(Substring(text))
    }
}
