/// A set of IP protocol numbers (`6` is TCP, `17` UDP, `132` SCTP, `1` ICMP, `58` ICMPv6), as
/// a rule matches them: one protocol, or all of them.
///
/// For example: `ProtocolSet.tcp` prints as `tcp`, and ``ProtocolSet/all`` as `all protocols`.
public struct ProtocolSet: Hashable, Sendable, CustomStringConvertible {
    /// The protocol numbers.
    public private(set) var numbers: IntervalSet<UInt8>

    /// Creates the set of some protocol numbers.
    public init(numbers: IntervalSet<UInt8>) {
        self.numbers = numbers
    }

    /// Creates the set of one protocol number.
    public init(_ number: UInt8) {
        numbers = IntervalSet([number...number])
    }

    /// TCP (6).
    public static let tcp = ProtocolSet(6)
    /// UDP (17).
    public static let udp = ProtocolSet(17)
    /// SCTP (132).
    public static let sctp = ProtocolSet(132)
    /// ICMP (1).
    public static let icmp = ProtocolSet(1)
    /// ICMPv6 (58).
    public static let icmpv6 = ProtocolSet(58)
    /// Every protocol: a rule that names none.
    public static let all = ProtocolSet(numbers: .full)
    /// No protocol.
    public static let none = ProtocolSet(numbers: .empty)

    /// The protocol of a transport.
    public init(_ transport: Transport) {
        switch transport {
        case .tcp: self = .tcp
        case .udp: self = .udp
        }
    }

    /// The number of a protocol name as iptables, nftables, AWS and Kubernetes write it
    /// (`tcp`, `UDP`, `icmpv6`, `ipv6-icmp`, `sctp`, or a number); `nil` when unknown.
    public static func number(named name: String) -> UInt8? {
        switch name.lowercased() {
        case "tcp": 6
        case "udp": 17
        case "sctp": 132
        case "icmp": 1
        case "icmpv6", "ipv6-icmp", "icmp6": 58
        case "esp": 50
        case "ah": 51
        case "gre": 47
        default: UInt8(name)
        }
    }

    /// Whether the protocols have destination ports that rules match (TCP, UDP, SCTP, UDP-Lite,
    /// DCCP); ICMP's types take their place in a ``Permission``.
    public static func hasPorts(_ number: UInt8) -> Bool { [6, 17, 33, 132, 136].contains(number) }

    /// Whether the set holds nothing.
    public var isEmpty: Bool { numbers.isEmpty }
    /// Whether the set is every protocol.
    public var isAll: Bool { numbers.isFull }

    /// The protocols in either set.
    public func union(_ other: ProtocolSet) -> ProtocolSet {
        ProtocolSet(numbers: numbers.union(other.numbers))
    }
    /// The protocols in both sets.
    public func intersection(_ other: ProtocolSet) -> ProtocolSet {
        ProtocolSet(numbers: numbers.intersection(other.numbers))
    }
    /// The protocols in this set and not in `other`.
    public func subtracting(_ other: ProtocolSet) -> ProtocolSet {
        ProtocolSet(numbers: numbers.subtracting(other.numbers))
    }
    /// Whether every protocol of this set is in `other`.
    public func isSubset(of other: ProtocolSet) -> Bool { numbers.isSubset(of: other.numbers) }

    /// `tcp`, `udp, tcp`, `all protocols`, or numbers for protocols without a name.
    public var description: String {
        if isAll { return "all protocols" }
        if isEmpty { return "no protocol" }
        let names: [UInt8: String] = [
            1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 51: "ah", 58: "icmpv6",
            132: "sctp",
        ]
        var parts: [String] = []
        for range in numbers.ranges {
            if range.count > 8 {
                parts.append("protocols \(range.lowerBound)-\(range.upperBound)")
            } else {
                parts += range.map { names[$0] ?? "protocol \($0)" }
            }
        }
        return parts.joined(separator: ", ")
    }
}
