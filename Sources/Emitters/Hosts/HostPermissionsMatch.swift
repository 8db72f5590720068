import TopologyModel

/// What one iptables or nftables rule matches, independently of the path it is met on: the
/// readers turn each rule's conditions into a `HostMatch`, and the evaluation asks it for the
/// packets it matches on one path and family (``outcome(on:family:)``).
///
/// The packets considered are the first packets of new connections that are flows: on the
/// input path they come in on the host's network interface from a far end and are addressed to
/// the host; on the output path the host sends them out of its network interface; on the
/// forward path (the worker's containers) they come in on a container bridge (`docker0`,
/// `br-*`) and go out of the network interface. Hence:
/// - a condition on connection tracking state matches when it matches `NEW`; `ESTABLISHED`,
///   `RELATED`, `INVALID` or `UNTRACKED` alone never do;
/// - `lo` never matches, a container bridge only as the forward path's input interface, and
///   every other interface name is taken to be the host's network interface (a host with
///   several is read as if they were one); the forward path is evaluated once per container
///   bridge the rules name (`docker0`, `br-0123456789ab`), `docker0` when they name none;
/// - the far end's address (the source on input, the destination otherwise) is compared; the
///   host's own address is not known: a condition on it that names only loopback, multicast or
///   broadcast addresses never matches, one that leaves out only those always does, and any
///   other is taken to name this host (or, forwarded, its containers) when it is positive,
///   and is unreadable when negated; a far end that is only such addresses never matches
///   (loopback is no flow);
/// - address types (`-m addrtype`): the far end is `UNICAST`, the host's own address `LOCAL`
///   and `UNICAST`, a container's `UNICAST`;
/// - a new connection's source port is ephemeral (1024–65535): a source port condition that
///   leaves those out never matches, one that holds them all always does, and any other is
///   unreadable;
/// - rate limits (`-m limit`, `limit rate`) are taken to match.
///
/// For example: `-s 10.0.0.0/8 -p tcp --dport 22` is, on the input path of IPv4, the box
/// `10.0.0.0/8 × tcp × 22`; `-i lo` never matches.
struct HostMatch: Hashable, Sendable {
    /// Addresses a condition names, as written: `-s 10.0.0.0/8`, `ip daddr != 10.0.0.1`.
    struct Addresses: Hashable, Sendable {
        /// The family of the addresses.
        var family: IPFamily
        /// The addresses named.
        var set: IntervalSet<UInt128>
        /// Whether the condition matches every other address.
        var negated: Bool
        /// The condition as written, for messages.
        var text: String
    }

    /// An interface condition: names or prefixes (`br-+` in iptables, `br-*` in nftables), any
    /// of which matches.
    struct Interface: Hashable, Sendable {
        /// A name or a prefix.
        struct Pattern: Hashable, Sendable {
            /// The name, without its wildcard.
            var name: String
            /// Whether the name is a prefix.
            var isPrefix: Bool
        }

        /// The names.
        var patterns: [Pattern]
        /// Whether the condition matches every other interface.
        var negated: Bool

        /// A condition on one name or prefix.
        init(name: String, isPrefix: Bool, negated: Bool) {
            patterns = [Pattern(name: name, isPrefix: isPrefix)]
            self.negated = negated
        }

        /// A condition on several.
        init(patterns: [Pattern], negated: Bool) {
            self.patterns = patterns
            self.negated = negated
        }
    }

    /// An address type condition (`-m addrtype --dst-type LOCAL`).
    struct AddressTypes: Hashable, Sendable {
        /// The types, upper case: `LOCAL`, `UNICAST`, ...
        var types: Set<String>
        /// Whether the condition matches every other type.
        var negated: Bool
    }

    /// Source ports a condition names (after negation), as written.
    struct SourcePorts: Hashable, Sendable {
        /// The ports.
        var ports: IntervalSet<UInt16>
        /// The condition as written.
        var text: String
    }

    /// What a match is on one path and family.
    enum Outcome: Hashable, Sendable {
        /// No new connection of a flow matches.
        case never
        /// These packets match.
        case box(PacketBox)
        /// The match cannot be read; why.
        case unreadable(String)
    }

    /// The classes of interfaces a packet of a flow can use.
    enum InterfaceClass: Hashable, Sendable {
        /// `lo`.
        case loopback
        /// A container bridge: `docker0`, `br-*`.
        case bridge
        /// Any other interface: the host's network interface.
        case network
    }

    /// The only family the rule matches, if it names one.
    var family: IPFamily?
    /// Conditions on the source address.
    var sources: [Addresses] = []
    /// Conditions on the destination address.
    var destinations: [Addresses] = []
    /// The protocols.
    var protocols: ProtocolBits = .all
    /// The destination ports or ICMP types, if the rule names them.
    var ports: IntervalSet<UInt16>?
    /// Conditions on the source port.
    var sourcePorts: [SourcePorts] = []
    /// Conditions on the input interface.
    var inInterfaces: [Interface] = []
    /// Conditions on the output interface.
    var outInterfaces: [Interface] = []
    /// Conditions on the source address's type.
    var sourceTypes: [AddressTypes] = []
    /// Conditions on the destination address's type.
    var destinationTypes: [AddressTypes] = []
    /// Whether a condition rules out every new connection (`ESTABLISHED` only, `! --syn`).
    var never = false
    /// Why conditions cannot be read, in the project's message style.
    var unreadable: [String] = []
    /// The rule's comment.
    var comment: String?

    /// Adds a condition that the packet is of `family`.
    mutating func require(_ family: IPFamily) {
        if let existing = self.family, existing != family { never = true }
        self.family = family
    }

    /// Adds a condition on the protocol.
    mutating func restrict(protocols: ProtocolBits) {
        self.protocols = self.protocols.intersection(protocols)
        if self.protocols.isEmpty { never = true }
    }

    /// Adds a condition on the destination port (or ICMP type) of some protocols.
    mutating func restrict(ports: IntervalSet<UInt16>, of protocols: ProtocolBits) {
        restrict(protocols: protocols)
        let restricted = self.ports.map { $0.intersection(ports) } ?? ports
        self.ports = restricted
        if restricted.isEmpty { never = true }
    }

    /// The protocols with destination ports a rule can match (`th dport`, `-m multiport`).
    static let portProtocols = [6, 17, 33, 132, 136].reduce(ProtocolBits.none) {
        $0.union(ProtocolBits($1))
    }

    /// The ports a new connection's source port is chosen from, as this reader assumes.
    static let ephemeralPorts = IntervalSet<UInt16>(1024...65535)

    /// What the rule matches of the new connections of flows on `path` in `family`; on the
    /// forward path, of containers behind the bridge named `bridge`.
    func outcome(on path: HostRule.Path, family evaluated: IPFamily, bridge: String = "docker0")
        -> Outcome
    {
        if never { return .never }
        if let family, family != evaluated { return .never }
        let (incoming, outgoing): (InterfaceUse, InterfaceUse) =
            switch path {
            case .input: (.network, .none)
            case .output: (.none, .network)
            case .forward: (.bridge(bridge), .network)
            }
        for condition in inInterfaces where !Self.matches(condition, incoming) { return .never }
        for condition in outInterfaces where !Self.matches(condition, outgoing) { return .never }
        let peerSide = path == .input ? sources : destinations
        let ownSide = path == .input ? destinations : sources
        let peerTypes: Set<String> = ["UNICAST"]
        let ownTypes: Set<String> = path == .forward ? ["UNICAST"] : ["UNICAST", "LOCAL"]
        let (sourceKinds, destinationKinds) =
            path == .input ? (peerTypes, ownTypes) : (ownTypes, peerTypes)
        for condition in sourceTypes
        where condition.types.isDisjoint(with: sourceKinds) != condition.negated {
            return .never
        }
        for condition in destinationTypes
        where condition.types.isDisjoint(with: destinationKinds) != condition.negated {
            return .never
        }
        var reasons = unreadable
        let full = HostAddress.full(evaluated)
        let ordinary = HostAddress.ordinary(evaluated)
        for condition in ownSide {
            if condition.family != evaluated { return .never }
            let set = condition.negated ? full.subtracting(condition.set) : condition.set
            if !set.overlaps(ordinary) { return .never }
            if ordinary.isSubset(of: set) { continue }
            if condition.negated {
                reasons.append(
                    "'\(condition.text)' names addresses of this host, which topogen does not know; the rule is not compared"
                )
            }
        }
        var peers = full
        for condition in peerSide {
            if condition.family != evaluated { return .never }
            let set = condition.negated ? full.subtracting(condition.set) : condition.set
            peers = peers.intersection(set)
        }
        if !peers.overlaps(ordinary) { return .never }
        for condition in sourcePorts {
            if !condition.ports.overlaps(Self.ephemeralPorts) { return .never }
            if !Self.ephemeralPorts.isSubset(of: condition.ports) {
                reasons.append(
                    "'\(condition.text)' matches some source ports of new connections; source ports are not compared"
                )
            }
        }
        var protocols = self.protocols
        if !protocols.isAll {
            protocols = protocols.subtracting(evaluated == .ipv4 ? ProtocolBits.icmpv6 : .icmp)
        }
        let box = PacketBox(peers: peers, protocols: protocols, ports: ports ?? .full)
        if box.isEmpty { return .never }
        if let reason = reasons.first { return .unreadable(reason) }
        return .box(box)
    }

    /// The interface a packet uses on one side.
    enum InterfaceUse: Hashable, Sendable {
        /// None: the output interface of an incoming packet, the input one of an outgoing.
        case none
        /// A container bridge of this name.
        case bridge(String)
        /// The host's network interface.
        case network
    }

    /// Whether an interface condition matches a packet that uses `actual`.
    static func matches(_ condition: Interface, _ actual: InterfaceUse) -> Bool {
        switch actual {
        case .none: return condition.negated
        case .bridge(let name):
            let named = condition.patterns.contains {
                $0.isPrefix ? name.hasPrefix($0.name) : name == $0.name
            }
            return named != condition.negated
        case .network:
            let named = condition.patterns.contains { classes($0).contains(.network) }
            return named != condition.negated
        }
    }

    /// The names of container bridges the conditions name, such as `docker0` or
    /// `br-0123456789ab` (not prefixes such as `br-+`).
    var bridges: Set<String> {
        var names: Set<String> = []
        for condition in inInterfaces + outInterfaces {
            for pattern in condition.patterns
            where !pattern.isPrefix && Self.classes(pattern) == [.bridge] {
                names.insert(pattern.name)
            }
        }
        return names
    }

    /// The classes of interfaces an interface name or prefix can name.
    static func classes(_ condition: Interface.Pattern) -> Set<InterfaceClass> {
        let bridges: [(name: String, isPrefix: Bool)] = HostFirewall.containerBridges.map {
            $0.hasSuffix("+") ? (String($0.dropLast()), true) : ($0, false)
        }
        let name = condition.name
        guard condition.isPrefix else {
            if name == "lo" { return [.loopback] }
            let bridge = bridges.contains {
                $0.isPrefix ? name.hasPrefix($0.name) : name == $0.name
            }
            return bridge ? [.bridge] : [.network]
        }
        var classes: Set<InterfaceClass> = []
        if "lo".hasPrefix(name) { classes.insert(.loopback) }
        if bridges.contains(where: {
            $0.isPrefix
                ? (name.hasPrefix($0.name) || $0.name.hasPrefix(name)) : $0.name.hasPrefix(name)
        }) {
            classes.insert(.bridge)
        }
        if !bridges.contains(where: { $0.isPrefix && name.hasPrefix($0.name) }) {
            classes.insert(.network)
        }
        return classes
    }
}
