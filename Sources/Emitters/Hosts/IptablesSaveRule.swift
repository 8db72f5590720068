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
    var chain: Substring
    /// Where `-I CHAIN [N]` inserts it (1-based); `nil` for `-A`.
    var insertAt: Int?
    /// What it matches.
    var match: HostMatch
    /// The target or chain it jumps (`-j`) or goes (`-g`) to; `nil` when it has none.
    var target: Substring?
    /// Whether the target is a goto (`-g`).
    var isGoto: Bool

    /// Modules whose options are read.
    static let modules: Set<Substring> = [
        "tcp", "udp", "sctp", "udplite", "dccp", "icmp", "icmp6", "ipv6-icmp", "multiport",
        "conntrack", "state", "comment", "addrtype", "limit", "pkttype", "iprange", "nfacct",
    ]

    /// Reads one rule line.
    ///
    /// - Throws: ``ReadError`` when the line is no rule of `iptables-save` output: not `-A` or
    ///   `-I`, an unterminated quote, an option without its value, a malformed address.
    init(_ line: Substring, family: IPFamily, location: SourceLocation) throws(ReadError) {
        guard let tokens = Self.tokens(line) else {
            throw ReadError(location, "unterminated quote in '\(HostPermissions.excerpt(line))'")
        }
        var reader = OptionReader(
            tokens: tokens, family: family, location: location, line: line)
        try reader.read()
        chain = reader.chain
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

/// Reads a rule's options one by one.
private struct OptionReader {
    let tokens: [Substring]
    let family: IPFamily
    let location: SourceLocation
    let line: Substring
    var position = 0
    var chain: Substring = ""
    var insertAt: Int?
    var match = HostMatch()
    var target: Substring?
    var isGoto = false
    /// The module whose options follow (`-m tcp`).
    var module: Substring?
    /// Whether the options that follow belong to a module that is not read.
    var skipping = false

    mutating func fail(_ message: String) -> ReadError {
        ReadError(location, message)
    }

    mutating func value(after option: Substring) throws(ReadError) -> Substring {
        guard position < tokens.count else {
            throw fail("'\(option)' has no value in '\(HostPermissions.excerpt(line))'")
        }
        defer { position += 1 }
        return tokens[position]
    }

    mutating func read() throws(ReadError) {
        if let first = tokens.first, first.hasPrefix("["), first.hasSuffix("]") { position = 1 }
        guard position < tokens.count else { throw fail("empty rule") }
        let command = tokens[position]
        position += 1
        switch command {
        case "-A", "--append":
            chain = try value(after: command)
        case "-I", "--insert":
            chain = try value(after: command)
            if position < tokens.count, let number = Int(tokens[position]) {
                insertAt = number
                position += 1
            } else {
                insertAt = 1
            }
        default:
            throw fail(
                "'\(command)' is not a rule of iptables-save output (expected '-A CHAIN ...')")
        }
        var negated = false
        while position < tokens.count {
            let option = tokens[position]
            position += 1
            if option == "!" {
                negated = true
                continue
            }
            defer { negated = false }
            switch option {
            case "-j", "--jump", "-g", "--goto":
                target = try value(after: option)
                isGoto = option == "-g" || option == "--goto"
                return
            case "-m", "--match":
                let name = try value(after: option)
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
            try readOption(option, negated: negated)
        }
    }

    mutating func readOption(_ option: Substring, negated: Bool) throws(ReadError) {
        let written = (negated ? "! " : "") + option
        switch option {
        case "-s", "--source", "--src", "-d", "--destination", "--dst":
            let text = try value(after: option)
            var set: [ClosedRange<UInt128>] = []
            for part in HostText.split(text, on: UInt8(ascii: ",")) where !part.isEmpty {
                guard let (family, range) = HostAddress.parse(part) else {
                    throw fail("'\(text)' is no address or network")
                }
                guard family == self.family else {
                    throw fail(
                        "'\(text)' is an \(family == .ipv4 ? "IPv4" : "IPv6") address in \(self.family == .ipv4 ? "iptables" : "ip6tables") rules"
                    )
                }
                set.append(range)
            }
            let condition = HostMatch.Addresses(
                family: family, set: HostRanges(set), negated: negated,
                text: "\(written) \(text)")
            if option.hasPrefix("-s") || option == "--src" {
                match.sources.append(condition)
            } else {
                match.destinations.append(condition)
            }
        case "-p", "--protocol":
            let name = try value(after: option)
            guard let protocols = Self.protocols(named: name) else {
                match.unreadable.append(
                    "'-p \(name)' is not a protocol topogen diff knows; the rule is not compared")
                return
            }
            match.restrict(protocols: negated ? ProtocolBits.all.subtracting(protocols) : protocols)
        case "-i", "--in-interface", "-o", "--out-interface":
            let name = try value(after: option)
            let condition = HostMatch.Interface(
                name: name.hasSuffix("+") ? String(name.dropLast()) : String(name),
                isPrefix: name.hasSuffix("+"), negated: negated)
            if option.hasPrefix("-i") || option == "--in-interface" {
                match.inInterfaces.append(condition)
            } else {
                match.outInterfaces.append(condition)
            }
        case "-f", "--fragment":
            if !negated { match.never = true }
        case "-4", "--ipv4":
            match.require(.ipv4)
        case "-6", "--ipv6":
            match.require(.ipv6)
        case "-c", "--set-counters":
            _ = try value(after: option)
            _ = try value(after: option)
        case "--dport", "--destination-port", "--dports", "--destination-ports", "--ports":
            let text = try value(after: option)
            guard var ports = Self.ports(text) else {
                match.unreadable.append(
                    "'\(written) \(text)' names ports topogen diff cannot read; the rule is not compared"
                )
                return
            }
            if negated { ports = HostRanges.full.subtracting(ports) }
            if option == "--ports" {
                // Either port: a new connection's source port is ephemeral, so a list of ports
                // below 1024 matches destination ports only.
                if ports.overlaps(HostMatch.ephemeralPorts) {
                    match.unreadable.append(
                        "'\(written) \(text)' matches source ports too; the rule is not compared")
                    return
                }
            }
            match.restrict(ports: ports, of: moduleProtocols)
        case "--sport", "--source-port", "--sports", "--source-ports":
            let text = try value(after: option)
            guard var ports = Self.ports(text) else {
                match.unreadable.append(
                    "'\(written) \(text)' names ports topogen diff cannot read; the rule is not compared"
                )
                return
            }
            if negated { ports = HostRanges.full.subtracting(ports) }
            match.restrict(protocols: moduleProtocols)
            match.sourcePorts.append(
                HostMatch.SourcePorts(ports: ports, text: "\(written) \(text)"))
        case "--syn":
            match.restrict(protocols: .tcp)
            if negated { match.never = true }
        case "--tcp-flags":
            let mask = try value(after: option)
            let set = try value(after: option)
            match.restrict(protocols: .tcp)
            guard let maskFlags = Self.tcpFlags(mask), let setFlags = Self.tcpFlags(set) else {
                match.unreadable.append(
                    "'--tcp-flags \(mask) \(set)' is not understood; the rule is not compared")
                return
            }
            // The first packet of a new TCP connection carries SYN alone.
            let matchesSYN = maskFlags.intersection(["SYN"]) == setFlags
            if matchesSYN == negated { match.never = true }
        case "--icmp-type", "--icmpv6-type":
            let text = try value(after: option)
            let isV6 = option == "--icmpv6-type"
            guard let types = Self.icmpTypes(text, ipv6: isV6) else {
                match.unreadable.append(
                    "'\(written) \(text)' names an ICMP code or type topogen diff cannot read; the rule is not compared"
                )
                return
            }
            match.restrict(
                ports: negated ? HostRanges.full.subtracting(types) : types,
                of: isV6 ? .icmpv6 : .icmp)
        case "--ctstate", "--state":
            let text = try value(after: option)
            let states = text.split(separator: ",").map { $0.uppercased() }
            if states.contains("NEW") == negated { match.never = true }
        case "--comment":
            match.comment = String(try value(after: option))
        case "--src-type", "--dst-type":
            let text = try value(after: option)
            let condition = HostMatch.AddressTypes(
                types: Set(text.split(separator: ",").map { $0.uppercased() }), negated: negated)
            if option == "--src-type" {
                match.sourceTypes.append(condition)
            } else {
                match.destinationTypes.append(condition)
            }
        case "--limit-iface-in", "--limit-iface-out":
            break
        case "--limit", "--limit-burst", "--nfacct-name":
            _ = try value(after: option)
        case "--pkt-type":
            let text = try value(after: option).lowercased()
            if (text == "unicast" || text == "host") == negated { match.never = true }
        case "--src-range", "--dst-range":
            let text = try value(after: option)
            guard let (family, range) = HostAddress.parse(text), family == self.family else {
                throw fail("'\(text)' is no address range")
            }
            let condition = HostMatch.Addresses(
                family: family, set: HostRanges(range), negated: negated,
                text: "\(written) \(text)")
            if option == "--src-range" {
                match.sources.append(condition)
            } else {
                match.destinations.append(condition)
            }
        default:
            if option.hasPrefix("-") {
                match.unreadable.append(
                    "'\(option)' is not understood by topogen diff; the rule is not compared")
                skipping = true
            } else {
                throw fail("unexpected '\(option)' in '\(HostPermissions.excerpt(line))'")
            }
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
    static func protocols(named name: Substring) -> ProtocolBits? {
        switch name.lowercased() {
        case "all", "0": .all
        case "udplite": ProtocolBits(136)
        case "dccp": ProtocolBits(33)
        case "igmp": ProtocolBits(2)
        case "mh", "ipv6-mh": ProtocolBits(135)
        default: ProtocolSet.number(named: String(name)).map { ProtocolBits($0) }
        }
    }

    /// Ports as `22`, `1000:2000`, `:1023`, `1024:`, or a comma-separated list of them.
    static func ports(_ text: Substring) -> HostRanges<UInt16>? {
        var ranges: [ClosedRange<UInt16>] = []
        for part in HostText.split(text, on: UInt8(ascii: ",")) {
            let bounds = HostText.split(part, on: UInt8(ascii: ":"))
            guard bounds.count <= 2 else { return nil }
            let low = bounds[0].isEmpty ? 0 : UInt16(bounds[0])
            let high = bounds.count == 1 ? low : (bounds[1].isEmpty ? 65535 : UInt16(bounds[1]))
            guard let low, let high, low <= high else { return nil }
            ranges.append(low...high)
        }
        return HostRanges(ranges)
    }

    /// TCP flags as `SYN,ACK`, `ALL`, `NONE`; `nil` when a name is unknown.
    static func tcpFlags(_ text: Substring) -> Set<String>? {
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
    static func icmpTypes(_ text: Substring, ipv6: Bool) -> HostRanges<UInt16>? {
        let name = text.lowercased()
        if name == "any" { return .full }
        if let number = UInt8(name) { return HostRanges(UInt16(number)...UInt16(number)) }
        guard let number = ipv6 ? IcmpTypeNames.ipv6[name] : IcmpTypeNames.ipv4[name] else {
            return nil
        }
        return HostRanges(UInt16(number)...UInt16(number))
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
