import TopologyModel

/// One rule line of `iptables-save` output (`-A CHAIN options -j TARGET`), read into a
/// ``HostMatch`` and its target.
///
/// Understood: `-s`/`-d` (with `!`, addresses, CIDRs, dotted masks), `-p` (names and numbers,
/// `!`), `-i`/`-o` (with `+` wildcards), `-f`, `-4`/`-6`; the matches `tcp`, `udp`, `sctp`,
/// `udplite`, `dccp` (`--dport`, `--sport`, `--syn`, `--tcp-flags`), `multiport` (`--dports`,
/// `--sports`, `--ports`, with ranges `a:b`), `icmp` and `icmp6` types, `conntrack --ctstate`,
/// `state --state`, `comment`, `addrtype`, `limit` (taken to match), `pkttype`, `iprange` and
/// `nfacct` (counts only). Any other match (`set`, `owner`, `mark`, `u32`, `recent`, ...) or
/// option makes the rule unreadable, with the line.
///
/// For example: `-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT` reads as chain
/// `INPUT`, target `ACCEPT`, and the match `10.0.0.0/8 × tcp × 22`.
struct IptablesSaveRule: Sendable {
    /// The chain the rule is added to.
    var chain: String
    /// The rule in a few words, for findings.
    var excerpt: String
    /// Where `-I CHAIN [N]` inserts it (1-based); `nil` for `-A`.
    var insertAt: Int?
    /// What it matches.
    var match: HostMatch
    /// The target or chain it jumps (`-j`) or goes (`-g`) to; `nil` when it has none.
    var target: String?
    /// Whether the target is a goto (`-g`).
    var isGoto: Bool

    /// Modules whose options are read.
    static let modules: Set<String> = [
        "tcp", "udp", "sctp", "udplite", "dccp", "icmp", "icmp6", "ipv6-icmp", "multiport",
        "conntrack", "state", "comment", "addrtype", "limit", "pkttype", "iprange", "nfacct",
    ]

    /// Reads one rule line.
    ///
    /// - Throws: ``ReadError`` when the line is no rule of `iptables-save` output: not `-A` or
    ///   `-I`, an unterminated quote, an option without its value, a malformed address.
    init(_ line: Substring, family: IPFamily, location: SourceLocation) throws(ReadError) {
        let bytes = line.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(line.utf8)
        guard let tokens = ByteToken.split(bytes) else {
            throw ReadError(location, "unterminated quote in '\(HostPermissions.excerpt(line))'")
        }
        var reader = OptionReader(
            bytes: bytes, tokens: tokens, family: family, location: location, line: line)
        try reader.read()
        chain = reader.chain
        excerpt = HostPermissions.excerpt(bytes: bytes)
        insertAt = reader.insertAt
        match = reader.match
        target = reader.target
        isGoto = reader.isGoto
    }

    /// The line split on white space; double-quoted words unquoted (`\"` and `\\` unescaped).
    /// `nil` when a quote is not closed.
    static func tokens(_ line: Substring) -> [Substring]? {
        var result: [Substring] = []
        let bytes = line.utf8
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                index = bytes.index(after: index)
                continue
            }
            if byte == UInt8(ascii: "\"") {
                var text = ""
                var scan = bytes.index(after: index)
                var closed = false
                var start = scan
                while scan != bytes.endIndex {
                    let current = bytes[scan]
                    if current == UInt8(ascii: "\\") {
                        text += line[start..<scan]
                        let next = bytes.index(after: scan)
                        guard next != bytes.endIndex else { break }
                        text += line[next..<bytes.index(after: next)]
                        scan = bytes.index(after: next)
                        start = scan
                        continue
                    }
                    if current == UInt8(ascii: "\"") {
                        text += line[start..<scan]
                        closed = true
                        break
                    }
                    scan = bytes.index(after: scan)
                }
                guard closed else { return nil }
                result.append(Substring(text))
                index = bytes.index(after: scan)
                continue
            }
            let start = index
            while index != bytes.endIndex && bytes[index] != UInt8(ascii: " ")
                && bytes[index] != UInt8(ascii: "\t")
            {
                index = bytes.index(after: index)
            }
            result.append(line[start..<index])
        }
        return result
    }
}

/// A word of a rule line: where it is in the line's bytes, and whether it was quoted (then
/// without its quotes) with escapes in it.
private struct ByteToken {
    /// Where the word is in the line's bytes (without quotes).
    var range: Range<Int>
    /// Whether it was quoted with backslash escapes in it.
    var escaped: Bool

    /// The words of a line; `nil` when a quote is not closed.
    static func split(_ bytes: [UInt8]) -> [ByteToken]? {
        var tokens: [ByteToken] = []
        tokens.reserveCapacity(24)
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                var scan = index + 1
                var escaped = false
                while scan < count && bytes[scan] != UInt8(ascii: "\"") {
                    if bytes[scan] == UInt8(ascii: "\\") {
                        escaped = true
                        scan += 1
                    }
                    scan += 1
                }
                guard scan < count else { return nil }
                tokens.append(ByteToken(range: (index + 1)..<scan, escaped: escaped))
                index = scan + 1
                continue
            }
            let start = index
            while index < count && bytes[index] != UInt8(ascii: " ")
                && bytes[index] != UInt8(ascii: "\t") && bytes[index] != UInt8(ascii: "\r")
            {
                index += 1
            }
            tokens.append(ByteToken(range: start..<index, escaped: false))
        }
        return tokens
    }
}

/// The options a rule line can hold, as iptables-save writes them and people do.
private enum Option {
    case source, destination, proto, inInterface, outInterface, fragment, ipv4, ipv6, counters
    case destinationPorts, sourcePorts, eitherPorts, syn, tcpFlags, icmpType, icmpv6Type
    case state, comment, sourceType, destinationType, limitInterface, skipValue, packetType
    case sourceRange, destinationRange, jump, goto, match

    /// The spellings of each option.
    static let spellings: [(StaticString, Option)] = [
        // The most frequent first.
        ("-m", .match), ("-j", .jump), ("-p", .proto), ("--dport", .destinationPorts),
        ("--comment", .comment), ("-s", .source), ("--source", .source), ("--src", .source),
        ("-d", .destination),
        ("--destination", .destination), ("--dst", .destination), ("-p", .proto),
        ("--protocol", .proto), ("-i", .inInterface), ("--in-interface", .inInterface),
        ("-o", .outInterface), ("--out-interface", .outInterface), ("-f", .fragment),
        ("--fragment", .fragment), ("-4", .ipv4), ("--ipv4", .ipv4), ("-6", .ipv6),
        ("--ipv6", .ipv6), ("-c", .counters), ("--set-counters", .counters),
        ("--dport", .destinationPorts), ("--destination-port", .destinationPorts),
        ("--dports", .destinationPorts), ("--destination-ports", .destinationPorts),
        ("--ports", .eitherPorts), ("--sport", .sourcePorts), ("--source-port", .sourcePorts),
        ("--sports", .sourcePorts), ("--source-ports", .sourcePorts), ("--syn", .syn),
        ("--tcp-flags", .tcpFlags), ("--icmp-type", .icmpType), ("--icmpv6-type", .icmpv6Type),
        ("--ctstate", .state), ("--state", .state), ("--comment", .comment),
        ("--src-type", .sourceType), ("--dst-type", .destinationType),
        ("--limit-iface-in", .limitInterface), ("--limit-iface-out", .limitInterface),
        ("--limit", .skipValue), ("--limit-burst", .skipValue), ("--nfacct-name", .skipValue),
        ("--pkt-type", .packetType), ("--src-range", .sourceRange),
        ("--dst-range", .destinationRange), ("-j", .jump), ("--jump", .jump), ("-g", .goto),
        ("--goto", .goto), ("-m", .match), ("--match", .match),
    ]
}

/// Reads a rule's options one by one, from the line's bytes.
private struct OptionReader {
    /// The line's bytes.
    let bytes: [UInt8]
    /// The line's words.
    let tokens: [ByteToken]
    /// The family of the rules.
    let family: IPFamily
    /// Where the line is.
    let location: SourceLocation
    /// The line, for messages.
    let line: Substring
    /// The word being read.
    var position = 0
    /// The chain the rule is added to.
    var chain = ""
    /// Where `-I` inserts it.
    var insertAt: Int?
    /// What it matches so far.
    var match = HostMatch()
    /// Its target.
    var target: String?
    /// Whether the target is a goto.
    var isGoto = false
    /// The module whose options follow (`-m tcp`).
    var module: String?
    /// Whether the options that follow belong to a module that is not read.
    var skipping = false

    /// The error of a problem with this line.
    func fail(_ message: String) -> ReadError {
        ReadError(location, message)
    }

    /// Whether a word is `literal`.
    func word(_ token: ByteToken, is literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard token.range.count == count else { return false }
        let start = literal.utf8Start
        let base = token.range.lowerBound
        var offset = 0
        while offset < count {
            if bytes[base + offset] != start[offset] { return false }
            offset += 1
        }
        return true
    }

    /// Targets most rules have, as static text.
    static let targets: [(StaticString, String)] = [
        ("ACCEPT", "ACCEPT"), ("DROP", "DROP"), ("REJECT", "REJECT"), ("RETURN", "RETURN"),
        ("LOG", "LOG"),
    ]
    /// Modules most rules use, as static text.
    static let moduleNames: [(StaticString, String)] = [
        ("tcp", "tcp"), ("udp", "udp"), ("comment", "comment"), ("conntrack", "conntrack"),
        ("multiport", "multiport"), ("icmp", "icmp"), ("icmp6", "icmp6"), ("state", "state"),
    ]

    /// A word as text: one of some common words without building a string, or any other.
    func common(_ token: ByteToken, _ words: [(StaticString, String)]) -> String {
        for (spelling, text) in words where word(token, is: spelling) { return text }
        return text(token)
    }

    /// A word as text, unescaped when it was quoted with escapes.
    func text(_ token: ByteToken) -> String {
        let raw = String(decoding: bytes[token.range], as: UTF8.self)
        guard token.escaped else { return raw }
        var result = ""
        var escape = false
        for character in raw {
            if escape || character != "\\" {
                result.append(character)
                escape = false
            } else {
                escape = true
            }
        }
        return result
    }

    /// The option a word spells, if any.
    func option(_ token: ByteToken) -> Option? {
        guard token.range.count > 1, bytes[token.range.lowerBound] == UInt8(ascii: "-") else {
            return nil
        }
        for (spelling, option) in Option.spellings where word(token, is: spelling) {
            return option
        }
        return nil
    }

    /// The word after an option, which must be there.
    mutating func value(after option: ByteToken) throws(ReadError) -> ByteToken {
        guard position < tokens.count else {
            throw fail(
                "'\(text(option))' has no value in '\(HostPermissions.excerpt(line))'")
        }
        defer { position += 1 }
        return tokens[position]
    }

    /// The word after an option, as text. (Reading the word first keeps `self` from being
    /// copied: a call on `self` whose argument changes `self` copies it.)
    mutating func textValue(after option: ByteToken) throws(ReadError) -> String {
        let value = try value(after: option)
        return text(value)
    }

    /// The word after an option, as one of `words` or any other text.
    mutating func commonValue(after option: ByteToken, _ words: [(StaticString, String)])
        throws(ReadError) -> String
    {
        let value = try value(after: option)
        return common(value, words)
    }

    /// Reads the command, then every option up to the target.
    mutating func read() throws(ReadError) {
        if let first = tokens.first, bytes[first.range.lowerBound] == UInt8(ascii: "[") {
            position = 1
        }
        guard position < tokens.count else { throw fail("empty rule") }
        let command = tokens[position]
        position += 1
        if word(command, is: "-A") || word(command, is: "--append") {
            chain = try textValue(after: command)
        } else if word(command, is: "-I") || word(command, is: "--insert") {
            chain = try textValue(after: command)
            if position < tokens.count, let number = Int(text(tokens[position])) {
                insertAt = number
                position += 1
            } else {
                insertAt = 1
            }
        } else {
            throw fail(
                "'\(text(command))' is not a rule of iptables-save output (expected '-A CHAIN ...')"
            )
        }
        var negated = false
        while position < tokens.count {
            let token = tokens[position]
            position += 1
            if word(token, is: "!") {
                negated = true
                continue
            }
            defer { negated = false }
            let option = option(token)
            switch option {
            case .jump, .goto:
                target = try commonValue(after: token, Self.targets)
                isGoto = option == .goto
                return
            case .match:
                let name = try commonValue(after: token, Self.moduleNames)
                module = name
                skipping = !IptablesSaveRule.modules.contains(name)
                if skipping {
                    match.unreadable.append(
                        "'-m \(name)' is not understood by topogen diff; the rule is not compared")
                }
                continue
            default: break
            }
            if skipping { continue }
            guard let option else {
                let written = text(token)
                if written.hasPrefix("-") {
                    match.unreadable.append(
                        "'\(written)' is not understood by topogen diff; the rule is not compared")
                    skipping = true
                    continue
                }
                throw fail("unexpected '\(written)' in '\(HostPermissions.excerpt(line))'")
            }
            try readOption(option, token, negated: negated)
        }
    }

    /// An option as written, `! --dport`, for the texts of findings and messages only: most
    /// options need neither.
    func written(_ token: ByteToken, _ negated: Bool) -> String {
        (negated ? "! " : "") + text(token)
    }

    /// Reads one option and its values into the match.
    mutating func readOption(_ option: Option, _ token: ByteToken, negated: Bool) throws(ReadError)
    {
        switch option {
        case .source, .destination, .sourceRange, .destinationRange:
            let value = try self.value(after: token)
            var set: [ClosedRange<UInt128>] = []
            var start = value.range.lowerBound
            for index in value.range.lowerBound...value.range.upperBound
            where index == value.range.upperBound || bytes[index] == UInt8(ascii: ",") {
                if index > start {
                    let part = bytes[start..<index]
                    guard let (family, range) = HostAddress.parse(part) else {
                        throw fail("'\(text(value))' is no address or network")
                    }
                    guard family == self.family else {
                        throw fail(
                            "'\(text(value))' is an \(family == .ipv4 ? "IPv4" : "IPv6") address in \(self.family == .ipv4 ? "iptables" : "ip6tables") rules"
                        )
                    }
                    set.append(range)
                }
                start = index + 1
            }
            let condition = HostMatch.Addresses(
                family: family, set: IntervalSet(set), negated: negated,
                text: "\(written(token, negated)) \(text(value))")
            if option == .source || option == .sourceRange {
                match.sources.append(condition)
            } else {
                match.destinations.append(condition)
            }
        case .proto:
            let value = try textValue(after: token)
            guard let protocols = Self.protocols(named: value) else {
                match.unreadable.append(
                    "'-p \(value)' is not a protocol topogen diff knows; the rule is not compared")
                return
            }
            match.restrict(protocols: negated ? ProtocolBits.all.subtracting(protocols) : protocols)
        case .inInterface, .outInterface:
            let value = try textValue(after: token)
            let condition = HostMatch.Interface(
                name: value.hasSuffix("+") ? String(value.dropLast()) : value,
                isPrefix: value.hasSuffix("+"), negated: negated)
            if option == .inInterface {
                match.inInterfaces.append(condition)
            } else {
                match.outInterfaces.append(condition)
            }
        case .fragment:
            if !negated { match.never = true }
        case .ipv4:
            match.require(.ipv4)
        case .ipv6:
            match.require(.ipv6)
        case .counters:
            _ = try value(after: token)
            _ = try value(after: token)
        case .destinationPorts, .eitherPorts:
            let value = try self.value(after: token)
            guard var ports = Self.ports(bytes[value.range]) else {
                match.unreadable.append(
                    "'\(written(token, negated)) \(text(value))' names ports topogen diff cannot read; the rule is not compared"
                )
                return
            }
            if negated { ports = IntervalSet.full.subtracting(ports) }
            if option == .eitherPorts && ports.overlaps(HostMatch.ephemeralPorts) {
                // Either port: a new connection's source port is ephemeral, so a list of
                // ports below 1024 matches destination ports only.
                match.unreadable.append(
                    "'\(written(token, negated)) \(text(value))' matches source ports too; the rule is not compared"
                )
                return
            }
            match.restrict(ports: ports, of: moduleProtocols)
        case .sourcePorts:
            let value = try self.value(after: token)
            guard var ports = Self.ports(bytes[value.range]) else {
                match.unreadable.append(
                    "'\(written(token, negated)) \(text(value))' names ports topogen diff cannot read; the rule is not compared"
                )
                return
            }
            if negated { ports = IntervalSet.full.subtracting(ports) }
            match.restrict(protocols: moduleProtocols)
            match.sourcePorts.append(
                HostMatch.SourcePorts(
                    ports: ports, text: "\(written(token, negated)) \(text(value))"))
        case .syn:
            match.restrict(protocols: .tcp)
            if negated { match.never = true }
        case .tcpFlags:
            let mask = try textValue(after: token)
            let set = try textValue(after: token)
            match.restrict(protocols: .tcp)
            guard let maskFlags = Self.tcpFlags(mask), let setFlags = Self.tcpFlags(set) else {
                match.unreadable.append(
                    "'--tcp-flags \(mask) \(set)' is not understood; the rule is not compared")
                return
            }
            // The first packet of a new TCP connection carries SYN alone.
            let matchesSYN = maskFlags.intersection(["SYN"]) == setFlags
            if matchesSYN == negated { match.never = true }
        case .icmpType, .icmpv6Type:
            let value = try textValue(after: token)
            let isV6 = option == .icmpv6Type
            guard let types = Self.icmpTypes(value, ipv6: isV6) else {
                match.unreadable.append(
                    "'\(written(token, negated)) \(value)' names an ICMP code or type topogen diff cannot read; the rule is not compared"
                )
                return
            }
            match.restrict(
                ports: negated ? IntervalSet.full.subtracting(types) : types,
                of: isV6 ? .icmpv6 : .icmp)
        case .state:
            let value = try textValue(after: token)
            let states = value.split(separator: ",").map { $0.uppercased() }
            if states.contains("NEW") == negated { match.never = true }
        case .comment:
            match.comment = try textValue(after: token)
        case .sourceType, .destinationType:
            let value = try textValue(after: token)
            let condition = HostMatch.AddressTypes(
                types: Set(value.split(separator: ",").map { $0.uppercased() }), negated: negated)
            if option == .sourceType {
                match.sourceTypes.append(condition)
            } else {
                match.destinationTypes.append(condition)
            }
        case .limitInterface:
            break
        case .skipValue:
            _ = try value(after: token)
        case .packetType:
            let value = try textValue(after: token).lowercased()
            if (value == "unicast" || value == "host") == negated { match.never = true }
        case .jump, .goto, .match:
            break
        }
    }

    /// The protocols the current module's port options apply to.
    var moduleProtocols: ProtocolBits {
        switch module {
        case "tcp": .tcp
        case "udp": .udp
        case "sctp": .sctp
        case "udplite": ProtocolBits(136)
        case "dccp": ProtocolBits(33)
        default: HostMatch.portProtocols
        }
    }

    /// A protocol as `-p` names it; `nil` when unknown.
    static func protocols(named name: String) -> ProtocolBits? {
        switch name.lowercased() {
        case "all", "0": .all
        case "udplite": ProtocolBits(136)
        case "dccp": ProtocolBits(33)
        case "igmp": ProtocolBits(2)
        case "mh", "ipv6-mh": ProtocolBits(135)
        default: ProtocolSet.number(named: name).map { ProtocolBits($0) }
        }
    }

    /// Ports as `22`, `1000:2000`, `:1023`, `1024:`, or a comma-separated list of them.
    static func ports(_ bytes: ArraySlice<UInt8>) -> IntervalSet<UInt16>? {
        var ranges: [ClosedRange<UInt16>] = []
        var low: Int?
        var current: Int?
        var colon = false
        for byte in bytes + [UInt8(ascii: ",")] {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                current = (current ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
                if (current ?? 0) > 65535 { return nil }
            case UInt8(ascii: ":"):
                guard !colon else { return nil }
                colon = true
                low = current ?? 0
                current = nil
            case UInt8(ascii: ","):
                let lower = colon ? (low ?? 0) : current
                let upper = colon ? (current ?? 65535) : current
                guard let lower, let upper, lower <= upper else { return nil }
                ranges.append(UInt16(lower)...UInt16(upper))
                low = nil
                current = nil
                colon = false
            default:
                return nil
            }
        }
        return IntervalSet(ranges)
    }

    /// TCP flags as `SYN,ACK`, `ALL`, `NONE`; `nil` when a name is unknown.
    static func tcpFlags(_ text: String) -> Set<String>? {
        let all: Set<String> = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]
        var flags: Set<String> = []
        for name in text.split(separator: ",").map({ $0.uppercased() }) {
            switch name {
            case "ALL": flags.formUnion(all)
            case "NONE": break
            default:
                guard all.contains(name) else { return nil }
                flags.insert(name)
            }
        }
        return flags
    }

    /// ICMP or ICMPv6 types as iptables names them: a number, a name, or `any`; `nil` with a
    /// code (`3/4`) or an unknown name.
    static func icmpTypes(_ text: String, ipv6: Bool) -> IntervalSet<UInt16>? {
        let name = text.lowercased()
        if name == "any" { return .full }
        if let number = UInt8(name) { return IntervalSet(UInt16(number)...UInt16(number)) }
        guard let number = ipv6 ? IcmpTypeNames.ipv6[name] : IcmpTypeNames.ipv4[name] else {
            return nil
        }
        return IntervalSet(UInt16(number)...UInt16(number))
    }
}

/// The names of ICMP and ICMPv6 types (no codes) as iptables and nftables write them.
enum IcmpTypeNames {
    /// ICMP.
    static let ipv4: [String: UInt8] = [
        "echo-reply": 0, "pong": 0, "destination-unreachable": 3, "source-quench": 4,
        "redirect": 5, "echo-request": 8, "ping": 8, "router-advertisement": 9,
        "router-solicitation": 10, "time-exceeded": 11, "ttl-exceeded": 11,
        "parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14,
        "info-request": 15, "info-reply": 16, "address-mask-request": 17,
        "address-mask-reply": 18,
    ]
    /// ICMPv6.
    static let ipv6: [String: UInt8] = [
        "destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
        "ttl-exceeded": 3, "parameter-problem": 4, "echo-request": 128, "ping": 128,
        "echo-reply": 129, "pong": 129, "mld-listener-query": 130, "mld-listener-report": 131,
        "mld-listener-done": 132, "mld-listener-reduction": 132, "router-solicitation": 133,
        "nd-router-solicit": 133, "router-advertisement": 134, "nd-router-advert": 134,
        "neighbour-solicitation": 135, "neighbor-solicitation": 135,
        "nd-neighbor-solicit": 135, "neighbour-advertisement": 136,
        "neighbor-advertisement": 136, "nd-neighbor-advert": 136, "redirect": 137,
        "nd-redirect": 137, "router-renumbering": 138, "ind-neighbor-solicit": 141,
        "ind-neighbor-advert": 142, "mld2-listener-report": 143,
    ]
}
