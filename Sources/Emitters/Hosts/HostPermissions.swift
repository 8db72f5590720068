import TopologyModel

/// What a host firewall of topogen's must allow, as permissions, and the model the iptables and
/// nftables readers share to say what deployed host rules allow.
///
/// The expected permissions come from the same ``HostFirewall`` both host emitters render: input
/// rules are the role's ingress, output rules its egress, and the worker's forward rules the
/// egress of its containers; a rule without a peer network stands for every address of its
/// family. Besides flows, the firewall accepts the ICMPv6 types of neighbour and multicast
/// listener discovery in and out, from and to any IPv6 address, under the pseudo flow id
/// `ipv6-neighbour-discovery`. A rule whose far end is only loopback, multicast or broadcast
/// addresses (`--cidr dns=127.0.0.53`) is no flow and required of no reader.
///
/// For example: the server of the reference installation must allow `tcp 1983` in from any
/// address (`lb-server-http`), and `icmpv6 types 130-136,143` in and out.
enum HostPermissions {
    /// The pseudo flow id of the ICMPv6 types every host firewall accepts in and out.
    static let neighbourDiscovery = "ipv6-neighbour-discovery"

    /// The permissions the host firewall of `role` must grant, for the flows `emitter` renders.
    ///
    /// - Returns: Nothing when `role` is `nil` or no component: reading needs `--role`.
    static func expected(
        _ emitter: some HostEmitter, topology: Topology, role: Node?
    ) -> [Permission] {
        guard let role, Node.components.contains(role) else { return [] }
        let flows = emitter.flows(for: topology)
        let byID = Dictionary(flows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let firewall = HostFirewall(role: role, flows: flows, topology: topology)
        var permissions: [Permission] = []
        for rule in firewall.rules {
            // A far end of loopback, multicast or broadcast addresses only is no flow (a rule
            // for it matches no new connection of a flow; see HostMatch).
            if let peer = rule.peer {
                let (family, range) = (
                    peer.family,
                    HostAddress.value(peer.address)...HostAddress.value(peer.lastAddress)
                )
                if !IntervalSet([range]).sparseOverlaps(HostAddress.ordinary(family)) { continue }
            }
            let subject = Subject(role, direction(rule.path))
            let peer =
                rule.peer.map { EndpointSet(cidrs: [$0]) }
                ?? (rule.family == .ipv4 ? .anyIPv4 : .anyIPv6)
            var names: [String] = []
            for id in rule.flows {
                guard let flow = byID[id] else { continue }
                let far = (rule.path == .input ? flow.source : flow.destination).description
                if !names.contains(far) { names.append(far) }
            }
            permissions.append(
                Permission(
                    subject: subject, peer: peer, protocols: ProtocolSet(rule.port.transport),
                    ports: IntervalSet([rule.port.range.lower...rule.port.range.upper]),
                    flows: rule.flows,
                    peerName: names.isEmpty ? nil : names.joined(separator: ", ")))
        }
        let types = IntervalSet(HostFirewall.icmpv6Types.map { UInt16($0)...UInt16($0) })
        for direction in [Subject.Direction.ingress, .egress] {
            permissions.append(
                Permission(
                    subject: Subject(role, direction), peer: .anyIPv6, protocols: .icmpv6,
                    ports: types, flows: [neighbourDiscovery], peerName: "any IPv6 neighbour"))
        }
        return permissions
    }

    /// The subject direction of a path: input is ingress, output egress, forward the
    /// containers' egress.
    static func direction(_ path: HostRule.Path) -> Subject.Direction {
        switch path {
        case .input: .ingress
        case .output: .egress
        case .forward: .containerEgress
        }
    }

    /// The peers a host reader speaks for: every address of the families it was given, and
    /// every named endpoint.
    ///
    /// For example: with only `iptables-save` output, every IPv4 address.
    static func compared(_ families: Set<IPFamily>) -> EndpointSet {
        var set = EndpointSet.anyName
        if families.contains(.ipv4) { set.ipv4 = .full }
        if families.contains(.ipv6) { set.ipv6 = .full }
        return set
    }

    /// The flow ids a rule's comment names: a comma-separated list of ids such as
    /// `server-postgres,server-dns`, as topogen writes them; any other comment names none.
    static func flows(inComment comment: String?) -> [String] {
        guard let comment, !comment.isEmpty else { return [] }
        let ids = comment.split(separator: ",", omittingEmptySubsequences: false)
        let valid = ids.allSatisfy { id in
            id.contains("-") && id.first != "-" && id.last != "-"
                && id.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" }
        }
        return valid ? ids.map(String.init) : []
    }

    /// A rule as an excerpt for findings: trimmed of white space and shortened to about 100
    /// characters.
    static func excerpt(_ text: some StringProtocol) -> String {
        let trimmed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return trimmed.count > 100 ? String(trimmed.prefix(97)) + "..." : trimmed
    }
}

/// Addresses as host rules name them: both families as 128-bit values (IPv4 in the lowest 32
/// bits), parsed from an address, a CIDR (host bits are cleared, as iptables does), an
/// address with a dotted netmask, or a range `A-B`.
///
/// For example: `10.0.0.0/8` is `0x0A000000...0x0AFFFFFF` of ``IPFamily/ipv4``.
enum HostAddress {
    /// Every address of a family.
    static func full(_ family: IPFamily) -> IntervalSet<UInt128> {
        family == .ipv4 ? IntervalSet([0...UInt128(UInt32.max)]) : .full
    }

    /// Addresses no flow has as its far end nor as the host's own: the unspecified network
    /// (`0.0.0.0/8`, `::/128`), loopback (`127.0.0.0/8`, `::1/128`), multicast (`224.0.0.0/4`,
    /// `ff00::/8`) and `240.0.0.0/4` with the broadcast address.
    static func special(_ family: IPFamily) -> IntervalSet<UInt128> {
        switch family {
        case .ipv4:
            IntervalSet([
                0...0x00FF_FFFF, 0x7F00_0000...0x7FFF_FFFF, 0xE000_0000...0xFFFF_FFFF,
            ])
        case .ipv6:
            IntervalSet([0...1, (UInt128(0xFF) << 120)...UInt128.max])
        }
    }

    /// Every address of a family but the special ones.
    static func ordinary(_ family: IPFamily) -> IntervalSet<UInt128> {
        full(family).subtracting(special(family))
    }

    /// The value of an address.
    static func value(_ address: IPAddress) -> UInt128 {
        address.family == .ipv4
            ? UInt128(address.low) : UInt128(address.high) << 64 | UInt128(address.low)
    }

    /// Parses `A`, `A/LEN`, `A/MASK` (IPv4, contiguous) or `A-B`; `nil` when malformed.
    static func parse(_ text: some StringProtocol) -> (
        family: IPFamily, range: ClosedRange<UInt128>
    )? {
        if let dash = text.firstIndex(of: "-") {
            guard let low = IPAddress(text[..<dash]),
                let high = IPAddress(text[text.index(after: dash)...]),
                low.family == high.family, low <= high
            else { return nil }
            return (low.family, value(low)...value(high))
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        var length = address.bitWidth
        if parts.count == 2 {
            if let number = Int(parts[1]), (0...address.bitWidth).contains(number) {
                length = number
            } else if address.family == .ipv4, let mask = IPAddress(parts[1]),
                mask.family == .ipv4
            {
                let bits = UInt32(truncatingIfNeeded: mask.low)
                let inverted = ~bits
                guard inverted & (inverted &+ 1) == 0 else { return nil }
                length = bits.nonzeroBitCount
            } else {
                return nil
            }
        }
        let low = address.masked(toPrefix: length)
        let high = address.filled(afterPrefix: length)
        return (address.family, value(low)...value(high))
    }

    /// The set as an endpoint set of its family.
    static func endpoints(_ set: IntervalSet<UInt128>, _ family: IPFamily) -> EndpointSet {
        switch family {
        case .ipv4:
            EndpointSet(
                ipv4: IntervalSet(
                    set.ranges.map {
                        UInt32(
                            truncatingIfNeeded: $0.lowerBound)...UInt32(
                                truncatingIfNeeded: $0.upperBound)
                    }))
        case .ipv6: EndpointSet(ipv6: set)
        }
    }
}

/// A set of packets of one family as one box: far-end addresses, IP protocols, and destination
/// ports (ICMP types for ICMP). What a rule matches on a path is one box.
///
/// For example: `-s 10.0.0.0/8 -p tcp --dport 22` on the input path is the box
/// `10.0.0.0/8 × tcp × 22`.
struct PacketBox: Hashable, Sendable {
    /// The far end's addresses, as ``HostAddress`` values.
    var peers: IntervalSet<UInt128>
    /// The IP protocols.
    var protocols: ProtocolSet
    /// The destination ports, or ICMP types.
    var ports: IntervalSet<UInt16>

    /// Every packet of a family.
    static func everything(_ family: IPFamily) -> PacketBox {
        PacketBox(peers: HostAddress.full(family), protocols: .all, ports: .full)
    }

    /// Whether the box holds no packet.
    var isEmpty: Bool { peers.isEmpty || protocols.isEmpty || ports.isEmpty }

    /// The packets in both boxes.
    func intersection(_ other: PacketBox) -> PacketBox {
        PacketBox(
            peers: peers.sparseIntersection(other.peers),
            protocols: protocols.intersection(other.protocols),
            ports: ports.intersection(other.ports))
    }

    /// Whether the boxes share a packet, without building their intersection.
    func overlaps(_ other: PacketBox) -> Bool {
        protocols.numbers.sparseOverlaps(other.protocols.numbers)
            && ports.sparseOverlaps(other.ports) && peers.sparseOverlaps(other.peers)
    }

    /// The packets of this box not in `other`, as at most three disjoint boxes.
    func subtracting(_ other: PacketBox) -> [PacketBox] {
        guard overlaps(other) else { return [self] }
        var pieces: [PacketBox] = []
        let outside = peers.sparseSubtracting(other.peers)
        if !outside.isEmpty {
            pieces.append(PacketBox(peers: outside, protocols: protocols, ports: ports))
        }
        let inside = peers.sparseIntersection(other.peers)
        let otherProtocols = protocols.subtracting(other.protocols)
        if !otherProtocols.isEmpty {
            pieces.append(PacketBox(peers: inside, protocols: otherProtocols, ports: ports))
        }
        let otherPorts = ports.subtracting(other.ports)
        if !otherPorts.isEmpty {
            pieces.append(
                PacketBox(
                    peers: inside, protocols: protocols.intersection(other.protocols),
                    ports: otherPorts))
        }
        return pieces
    }

    /// The packets of these boxes not in any of `others`.
    static func subtract(_ boxes: [PacketBox], _ others: [PacketBox]) -> [PacketBox] {
        var remaining = boxes
        for other in others {
            if remaining.isEmpty { break }
            remaining = remaining.flatMap { $0.subtracting(other) }
        }
        return remaining
    }
}

extension IntervalSet {
    /// The index of the first range that ends at or after `value`.
    fileprivate func firstRange(endingAtOrAfter value: Bound) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether the sets share a value: binary searches from the smaller set into the larger,
    /// so that a few ranges against many cost a few searches.
    func sparseOverlaps(_ other: IntervalSet) -> Bool {
        let (small, large) = ranges.count <= other.ranges.count ? (self, other) : (other, self)
        for range in small.ranges {
            let index = large.firstRange(endingAtOrAfter: range.lowerBound)
            if index < large.ranges.count && large.ranges[index].lowerBound <= range.upperBound {
                return true
            }
        }
        return false
    }

    /// The values in both sets, searching from the smaller into the larger.
    func sparseIntersection(_ other: IntervalSet) -> IntervalSet {
        let (small, large) = ranges.count <= other.ranges.count ? (self, other) : (other, self)
        if small.ranges.count == 1 && large.ranges.count == 1 {
            return intersection(other)
        }
        var result: [ClosedRange<Bound>] = []
        for range in small.ranges {
            var index = large.firstRange(endingAtOrAfter: range.lowerBound)
            while index < large.ranges.count && large.ranges[index].lowerBound <= range.upperBound {
                let piece = large.ranges[index]
                result.append(
                    Swift.max(
                        piece.lowerBound, range.lowerBound)...Swift.min(
                            piece.upperBound, range.upperBound))
                index += 1
            }
        }
        return IntervalSet(result)
    }

    /// The values of this set not in `other`, searching `other` for each range of this set.
    func sparseSubtracting(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty || isEmpty { return self }
        var result: [ClosedRange<Bound>] = []
        for range in ranges {
            var lower = range.lowerBound
            var index = other.firstRange(endingAtOrAfter: lower)
            var exhausted = false
            while index < other.ranges.count && other.ranges[index].lowerBound <= range.upperBound {
                let cut = other.ranges[index]
                if cut.lowerBound > lower { result.append(lower...(cut.lowerBound - 1)) }
                if cut.upperBound >= range.upperBound {
                    exhausted = true
                    break
                }
                lower = cut.upperBound + 1
                index += 1
            }
            if !exhausted { result.append(lower...range.upperBound) }
        }
        return IntervalSet(result)
    }
}
