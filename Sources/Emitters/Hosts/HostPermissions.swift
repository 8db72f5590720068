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
    /// - Returns: Nothing when `role` is `nil` or no component of the topology: reading needs
    ///   `--role`.
    static func expected(
        _ emitter: some HostEmitter, topology: Topology, role: Node?
    ) -> [Permission] {
        guard let role, topology.components.contains(role) else { return [] }
        let flows = emitter.flows(for: topology)
        let byID = Dictionary(flows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let firewall = HostFirewall(role: role, flows: flows, topology: topology)
        var permissions: [Permission] = []
        for rule in firewall.rules {
            // A far end of loopback, multicast or broadcast addresses only is no flow (a rule
            // for it matches no new connection of a flow; see HostMatch).
            if let peer = rule.peer {
                let range = HostAddress.value(peer.address)...HostAddress.value(peer.lastAddress)
                if !IntervalSet(range).overlaps(HostAddress.ordinary(peer.family)) { continue }
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

    /// The permissions with those of one rule on the same protocols and ports joined into one,
    /// whatever their families: an `inet` rule is one permission for IPv4 and IPv6 together.
    static func joiningFamilies(_ permissions: [Permission]) -> [Permission] {
        /// What permissions of one rule share.
        struct Key: Hashable {
            /// Whose.
            var subject: Subject
            /// The rule.
            var origin: SourceLocation?
            /// The protocols.
            var protocols: ProtocolSet
            /// The ports.
            var ports: IntervalSet<UInt16>
        }
        var index: [Key: Int] = [:]
        var result: [Permission] = []
        for permission in permissions {
            let key = Key(
                subject: permission.subject, origin: permission.origin,
                protocols: permission.protocols, ports: permission.ports)
            if let existing = index[key], result[existing].flows == permission.flows {
                result[existing].peer = result[existing].peer.union(permission.peer)
            } else {
                index[key] = result.count
                result.append(permission)
            }
        }
        return result
    }

    /// The unreadable constructs without repeats: a rule met on both families, or by several
    /// bridges' containers, is reported once per subject.
    static func distinct(_ unreadable: [Unreadable]) -> [Unreadable] {
        var seen: Set<Unreadable> = []
        return unreadable.filter { seen.insert($0).inserted }
    }

    /// The flow ids a rule's comment names: a comma-separated list of ids such as
    /// `server-postgres,server-dns`, as topogen writes them, optionally followed by `: ` and
    /// reasons (`server-otel-collector: Telemetry`); any other comment names none.
    static func flows(inComment text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        // The ids stand before the reasons of extra egress (see HostComment).
        let comment = text.utf8.firstIndex(of: UInt8(ascii: ":")).map { text[..<$0] } ?? text[...]
        var hyphen = false
        var previous = UInt8(ascii: ",")
        for byte in comment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            case UInt8(ascii: "-"):
                guard previous != UInt8(ascii: ","), previous != UInt8(ascii: "-") else {
                    return []
                }
                hyphen = true
            case UInt8(ascii: ","):
                guard hyphen, previous != UInt8(ascii: ","), previous != UInt8(ascii: "-") else {
                    return []
                }
                hyphen = false
            default:
                return []
            }
            previous = byte
        }
        guard hyphen, previous != UInt8(ascii: "-") else { return [] }
        return comment.split(separator: ",").map(String.init)
    }

    /// A rule as an excerpt for findings: trimmed of white space and shortened to about 100
    /// characters.
    static func excerpt(_ text: Substring) -> String {
        excerpt(bytes: text.utf8)
    }

    /// A rule given as bytes as an excerpt for findings.
    static func excerpt(bytes text: some Sequence<UInt8>) -> String {
        // Most lines are already single-spaced and trimmed: the text as it is, or its cut.
        if let plain = text.withContiguousStorageIfAvailable(plainExcerpt), let plain {
            return plain
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(101)
        var space = false
        for byte in text {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\n")
            {
                space = !bytes.isEmpty
                continue
            }
            if space { bytes.append(UInt8(ascii: " ")) }
            space = false
            bytes.append(byte)
            if bytes.count > 100 { break }
        }
        return shortened(bytes)
    }

    /// Trimmed and joined bytes as an excerpt: whole up to 100 bytes, else cut at 97 bytes,
    /// back to the start of a character, and `...` added.
    private static func shortened(_ bytes: some RandomAccessCollection<UInt8>) -> String {
        guard bytes.count > 100 else { return String(decoding: bytes, as: UTF8.self) }
        var cut = bytes.index(bytes.startIndex, offsetBy: 97)
        while cut > bytes.startIndex && bytes[cut] & 0xC0 == 0x80 { bytes.formIndex(before: &cut) }
        return String(decoding: bytes[..<cut], as: UTF8.self) + "..."
    }

    /// The excerpt of a text whose first 101 bytes need no trimming nor joining of white
    /// space; `nil` for any other.
    private static func plainExcerpt(_ text: UnsafeBufferPointer<UInt8>) -> String? {
        let space = UInt8(ascii: " ")
        guard let first = text.first, first != space else { return nil }
        var previous = first
        for byte in text.prefix(101) {
            switch byte {
            case UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): return nil
            case space where previous == space: return nil
            default: previous = byte
            }
        }
        // The last byte looked at ends the text or, past 100, is more of it.
        return previous == space ? nil : shortened(text)
    }
}

/// Addresses as host rules name them: both families as 128-bit values (IPv4 in the lowest 32
/// bits), parsed from an address, a CIDR (host bits are cleared, as iptables does), an
/// address with a dotted netmask, or a range `A-B`.
///
/// For example: `10.0.0.0/8` is `0x0A000000...0x0AFFFFFF` of ``IPFamily/ipv4``.
enum HostAddress {
    /// Every IPv4 address.
    private static let fullIPv4 = IntervalSet<UInt128>(0...UInt128(UInt32.max))
    /// Every IPv6 address.
    private static let fullIPv6 = IntervalSet<UInt128>.full
    /// The special IPv4 addresses (see ``special(_:)``).
    private static let specialIPv4 = IntervalSet<UInt128>([
        0...0x00FF_FFFF, 0x7F00_0000...0x7FFF_FFFF, 0xE000_0000...0xFFFF_FFFF,
    ])
    /// The special IPv6 addresses.
    private static let specialIPv6 = IntervalSet<UInt128>([
        0...1, (UInt128(0xFF) << 120)...UInt128.max,
    ])
    /// Every IPv4 address but the special ones.
    private static let ordinaryIPv4 = fullIPv4.subtracting(specialIPv4)
    /// Every IPv6 address but the special ones.
    private static let ordinaryIPv6 = fullIPv6.subtracting(specialIPv6)

    /// Every address of a family.
    static func full(_ family: IPFamily) -> IntervalSet<UInt128> {
        family == .ipv4 ? fullIPv4 : fullIPv6
    }

    /// Addresses no flow has as its far end nor as the host's own: the unspecified network
    /// (`0.0.0.0/8`, `::/128`), loopback (`127.0.0.0/8`, `::1/128`), multicast (`224.0.0.0/4`,
    /// `ff00::/8`) and `240.0.0.0/4` with the broadcast address.
    static func special(_ family: IPFamily) -> IntervalSet<UInt128> {
        family == .ipv4 ? specialIPv4 : specialIPv6
    }

    /// Every address of a family but the special ones.
    static func ordinary(_ family: IPFamily) -> IntervalSet<UInt128> {
        family == .ipv4 ? ordinaryIPv4 : ordinaryIPv6
    }

    /// The value of an address.
    static func value(_ address: IPAddress) -> UInt128 {
        address.family == .ipv4
            ? UInt128(address.low) : UInt128(address.high) << 64 | UInt128(address.low)
    }

    /// Parses `A`, `A/LEN`, `A/MASK` (IPv4, contiguous) or `A-B` given as bytes.
    static func parse(_ bytes: ArraySlice<UInt8>) -> (
        family: IPFamily, range: ClosedRange<UInt128>
    )? {
        if let (value, length) = fastIPv4(bytes) {
            return ipv4(value, length)
        }
        return parse(Substring(String(decoding: bytes, as: UTF8.self)))
    }

    /// The IPv4 network of an address and prefix length.
    private static func ipv4(_ value: UInt32, _ length: Int) -> (
        family: IPFamily, range: ClosedRange<UInt128>
    ) {
        let mask: UInt32 = length == 0 ? 0 : UInt32.max << (32 - UInt32(length))
        return (.ipv4, UInt128(value & mask)...UInt128(value | ~mask))
    }

    /// Parses `A`, `A/LEN`, `A/MASK` (IPv4, contiguous) or `A-B`; `nil` when malformed.
    static func parse(_ text: Substring) -> (family: IPFamily, range: ClosedRange<UInt128>)? {
        if let (value, length) = fastIPv4(text.utf8) {
            return ipv4(value, length)
        }
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

    /// `a.b.c.d` or `a.b.c.d/len` read byte by byte, the way iptables-save and nft print
    /// them; `nil` for anything else (IPv6, masks, ranges), which the general parser reads.
    private static func fastIPv4(_ bytes: some Sequence<UInt8>) -> (UInt32, Int)? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var length = 0
        var lengthDigits = 0
        var slashed = false
        for byte in bytes {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let digit = byte - UInt8(ascii: "0")
                if slashed {
                    length = length * 10 + Int(digit)
                    lengthDigits += 1
                    if length > 32 { return nil }
                } else {
                    octet = octet * 10 + UInt32(digit)
                    digits += 1
                    if digits > 3 || octet > 255 { return nil }
                }
            } else if byte == UInt8(ascii: "."), !slashed, digits > 0, dots < 3 {
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if byte == UInt8(ascii: "/"), !slashed, digits > 0, dots == 3 {
                slashed = true
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0, !slashed || lengthDigits > 0 else { return nil }
        return (value << 8 | octet, slashed ? length : 32)
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
    var protocols: ProtocolBits
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
            peers: peers.intersection(other.peers),
            protocols: protocols.intersection(other.protocols),
            ports: ports.intersection(other.ports))
    }

    /// Whether the boxes share a packet, without building their intersection.
    func overlaps(_ other: PacketBox) -> Bool {
        protocols.overlaps(other.protocols) && ports.overlaps(other.ports)
            && peers.overlaps(other.peers)
    }

    /// The packets of this box not in `other`, as at most three disjoint boxes.
    func subtracting(_ other: PacketBox) -> [PacketBox] {
        guard overlaps(other) else { return [self] }
        var pieces: [PacketBox] = []
        let outside = peers.subtracting(other.peers)
        if !outside.isEmpty {
            pieces.append(PacketBox(peers: outside, protocols: protocols, ports: ports))
        }
        let inside = peers.intersection(other.peers)
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

/// A set of IP protocol numbers as a 256-bit map, like ``ProtocolSet``, for the host readers'
/// evaluation.
///
/// For example: `ProtocolBits(6)` is TCP.
struct ProtocolBits: Hashable, Sendable {
    /// Protocols 0–63.
    private var word0: UInt64
    /// Protocols 64–127.
    private var word1: UInt64
    /// Protocols 128–191.
    private var word2: UInt64
    /// Protocols 192–255.
    private var word3: UInt64

    /// The set of these bits.
    private init(_ word0: UInt64, _ word1: UInt64, _ word2: UInt64, _ word3: UInt64) {
        self.word0 = word0
        self.word1 = word1
        self.word2 = word2
        self.word3 = word3
    }

    /// One protocol.
    init(_ number: UInt8) {
        let bit: UInt64 = 1 << (UInt64(number) % 64)
        switch number / 64 {
        case 0: self.init(bit, 0, 0, 0)
        case 1: self.init(0, bit, 0, 0)
        case 2: self.init(0, 0, bit, 0)
        default: self.init(0, 0, 0, bit)
        }
    }

    /// The protocols of a protocol set.
    init(_ set: ProtocolSet) {
        var bits = ProtocolBits.none
        for range in set.numbers.ranges {
            for number in range { bits = bits.union(ProtocolBits(number)) }
        }
        self = bits
    }

    /// Every protocol.
    static let all = ProtocolBits(.max, .max, .max, .max)
    /// No protocol.
    static let none = ProtocolBits(0, 0, 0, 0)
    /// TCP.
    static let tcp = ProtocolBits(6)
    /// UDP.
    static let udp = ProtocolBits(17)
    /// SCTP.
    static let sctp = ProtocolBits(132)
    /// ICMP.
    static let icmp = ProtocolBits(1)
    /// ICMPv6.
    static let icmpv6 = ProtocolBits(58)

    /// Whether the set holds no protocol.
    var isEmpty: Bool { word0 | word1 | word2 | word3 == 0 }
    /// Whether the set holds every protocol.
    var isAll: Bool { word0 & word1 & word2 & word3 == .max }

    /// The protocols in both sets.
    func intersection(_ other: ProtocolBits) -> ProtocolBits {
        ProtocolBits(
            word0 & other.word0, word1 & other.word1, word2 & other.word2, word3 & other.word3)
    }
    /// The protocols in either set.
    func union(_ other: ProtocolBits) -> ProtocolBits {
        ProtocolBits(
            word0 | other.word0, word1 | other.word1, word2 | other.word2, word3 | other.word3)
    }
    /// The protocols in this set and not in `other`.
    func subtracting(_ other: ProtocolBits) -> ProtocolBits {
        ProtocolBits(
            word0 & ~other.word0, word1 & ~other.word1, word2 & ~other.word2,
            word3 & ~other.word3)
    }
    /// Whether the sets share a protocol.
    func overlaps(_ other: ProtocolBits) -> Bool { !intersection(other).isEmpty }

    /// The protocols as a protocol set.
    var protocolSet: ProtocolSet {
        if isAll { return .all }
        var ranges: [ClosedRange<UInt8>] = []
        for (offset, word) in [word0, word1, word2, word3].enumerated() {
            var rest = word
            while rest != 0 {
                let value = UInt8(offset * 64 + rest.trailingZeroBitCount)
                rest &= rest - 1
                if let last = ranges.last, last.upperBound + 1 == value {
                    ranges[ranges.count - 1] = last.lowerBound...value
                } else {
                    ranges.append(value...value)
                }
            }
        }
        return ProtocolSet(numbers: IntervalSet(ranges))
    }
}

/// Splitting text on bytes rather than characters, for the host readers' long inputs.
enum HostText {
    /// The lines of a text, without their line feeds (a carriage return before one is kept).
    static func lines(_ text: String) -> [Substring] {
        let utf8 = text.utf8
        let ends: [Int]? = utf8.withContiguousStorageIfAvailable { buffer in
            var ends: [Int] = []
            for (offset, byte) in buffer.enumerated() where byte == UInt8(ascii: "\n") {
                ends.append(offset)
            }
            return ends
        }
        guard let ends else { return split(Substring(text), on: UInt8(ascii: "\n")) }
        var lines: [Substring] = []
        lines.reserveCapacity(ends.count + 1)
        var start = utf8.startIndex
        for end in ends {
            let index = utf8.index(utf8.startIndex, offsetBy: end)
            lines.append(text[start..<index])
            start = utf8.index(after: index)
        }
        lines.append(text[start..<utf8.endIndex])
        return lines
    }

    /// The pieces of `text` between occurrences of an ASCII byte, empty ones included.
    static func split(_ text: Substring, on separator: UInt8) -> [Substring] {
        var pieces: [Substring] = []
        let bytes = text.utf8
        var start = bytes.startIndex
        var index = start
        while index != bytes.endIndex {
            if bytes[index] == separator {
                pieces.append(text[start..<index])
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        pieces.append(text[start..<bytes.endIndex])
        return pieces
    }
}
