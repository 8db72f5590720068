/// A set of network endpoints a rule names as its peer: IPv4 and IPv6 addresses, and named
/// endpoints that have no address of their own in the rule (an AWS security group, a managed
/// prefix list, a class of Kubernetes pods).
///
/// Named endpoints are compared by name only: a CIDR never contains a security group, and a
/// set can hold "every named endpoint but these" (``everything`` holds every address and every
/// name), so that `0.0.0.0/0` on AWS or `namespaceSelector: {}` on Kubernetes can be written.
///
/// For example: `EndpointSet(cidrs: [CIDR("10.0.0.0/8")])` prints as `10.0.0.0/8`, and
/// `EndpointSet(names: ["sg-0123 (spacelift-lb)"])` as `sg-0123 (spacelift-lb)`.
public struct EndpointSet: Hashable, Sendable, CustomStringConvertible {
    /// The IPv4 addresses, as 32-bit values.
    public var ipv4: IntervalSet<UInt32>
    /// The IPv6 addresses, as 128-bit values.
    public var ipv6: IntervalSet<UInt128>
    /// The named endpoints the set holds or, when ``excludesNames`` is set, the ones it leaves
    /// out.
    public var names: Set<String>
    /// Whether the set holds every named endpoint except ``names``.
    public var excludesNames: Bool

    /// Creates a set.
    public init(
        ipv4: IntervalSet<UInt32> = .empty, ipv6: IntervalSet<UInt128> = .empty,
        names: Set<String> = [], excludesNames: Bool = false
    ) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.names = names
        self.excludesNames = excludesNames
    }

    /// The addresses of some networks.
    public init(cidrs: some Sequence<CIDR>) {
        self.init()
        var v4: [ClosedRange<UInt32>] = []
        var v6: [ClosedRange<UInt128>] = []
        for cidr in cidrs {
            switch cidr.family {
            case .ipv4:
                v4.append(
                    UInt32(
                        truncatingIfNeeded: cidr.address.low)...UInt32(
                            truncatingIfNeeded: cidr.lastAddress.low))
            case .ipv6:
                v6.append(Self.value(cidr.address)...Self.value(cidr.lastAddress))
            }
        }
        ipv4 = IntervalSet(v4)
        ipv6 = IntervalSet(v6)
    }

    /// Named endpoints only.
    public init(names: some Sequence<String>) {
        self.init(names: Set(names))
    }

    /// Nothing.
    public static let nothing = EndpointSet()
    /// Every address of both families and every named endpoint: a rule without a peer.
    public static let everything = EndpointSet(
        ipv4: .full, ipv6: .full, names: [], excludesNames: true)
    /// Every IPv4 address.
    public static let anyIPv4 = EndpointSet(ipv4: .full)
    /// Every IPv6 address.
    public static let anyIPv6 = EndpointSet(ipv6: .full)
    /// Every named endpoint, and no address.
    public static let anyName = EndpointSet(names: [], excludesNames: true)

    /// Whether the set holds nothing.
    public var isEmpty: Bool { ipv4.isEmpty && ipv6.isEmpty && !excludesNames && names.isEmpty }

    /// The endpoints in either set.
    public func union(_ other: EndpointSet) -> EndpointSet {
        let (names, excludes) =
            switch (excludesNames, other.excludesNames) {
            case (false, false): (self.names.union(other.names), false)
            case (true, false): (self.names.subtracting(other.names), true)
            case (false, true): (other.names.subtracting(self.names), true)
            case (true, true): (self.names.intersection(other.names), true)
            }
        return EndpointSet(
            ipv4: ipv4.union(other.ipv4), ipv6: ipv6.union(other.ipv6), names: names,
            excludesNames: excludes)
    }

    /// The endpoints in both sets.
    public func intersection(_ other: EndpointSet) -> EndpointSet {
        let (names, excludes) =
            switch (excludesNames, other.excludesNames) {
            case (false, false): (self.names.intersection(other.names), false)
            case (true, false): (other.names.subtracting(self.names), false)
            case (false, true): (self.names.subtracting(other.names), false)
            case (true, true): (self.names.union(other.names), true)
            }
        return EndpointSet(
            ipv4: ipv4.intersection(other.ipv4), ipv6: ipv6.intersection(other.ipv6),
            names: names, excludesNames: excludes)
    }

    /// The endpoints in this set and not in `other`.
    public func subtracting(_ other: EndpointSet) -> EndpointSet {
        let (names, excludes) =
            switch (excludesNames, other.excludesNames) {
            case (false, false): (self.names.subtracting(other.names), false)
            // Those `other` leaves out.
            case (false, true): (self.names.intersection(other.names), false)
            case (true, false): (self.names.union(other.names), true)
            // Those `other` leaves out and this set does not.
            case (true, true): (other.names.subtracting(self.names), false)
            }
        return EndpointSet(
            ipv4: ipv4.subtracting(other.ipv4), ipv6: ipv6.subtracting(other.ipv6), names: names,
            excludesNames: excludes)
    }

    /// Whether every endpoint of this set is in `other`.
    public func isSubset(of other: EndpointSet) -> Bool {
        guard ipv4.isSubset(of: other.ipv4), ipv6.isSubset(of: other.ipv6) else { return false }
        switch (excludesNames, other.excludesNames) {
        case (false, false): return names.isSubset(of: other.names)
        case (false, true): return names.isDisjoint(with: other.names)
        case (true, false): return false
        case (true, true): return other.names.isSubset(of: names)
        }
    }

    /// Whether the sets share an endpoint, without building their intersection.
    public func overlaps(_ other: EndpointSet) -> Bool {
        if ipv4.overlaps(other.ipv4) || ipv6.overlaps(other.ipv6) { return true }
        switch (excludesNames, other.excludesNames) {
        case (false, false): return !names.isDisjoint(with: other.names)
        case (true, false): return !other.names.isSubset(of: names)
        case (false, true): return !names.isSubset(of: other.names)
        case (true, true): return true
        }
    }

    /// The addresses as the fewest CIDRs, IPv4 first.
    public var cidrs: [CIDR] {
        var result: [CIDR] = []
        visitBlocks { result.append($0) }
        return result
    }

    /// Calls `body` with each of the fewest CIDRs that cover the addresses, IPv4 first, in
    /// order, without collecting them.
    private func visitBlocks(_ body: (CIDR) -> Void) {
        for range in ipv4.ranges {
            Self.visitBlocks(UInt128(range.lowerBound), UInt128(range.upperBound), bits: 32) {
                body(
                    CIDR(uncheckedAddress: IPAddress(ipv4: UInt32($0)), prefixLength: $1))
            }
        }
        for range in ipv6.ranges {
            Self.visitBlocks(range.lowerBound, range.upperBound, bits: 128) {
                body(
                    CIDR(
                        uncheckedAddress: IPAddress(
                            ipv6High: UInt64(truncatingIfNeeded: $0 >> 64),
                            low: UInt64(truncatingIfNeeded: $0)), prefixLength: $1))
            }
        }
    }

    /// The set in words: `anywhere` for ``everything``, `any address`, CIDRs, names;
    /// `any named endpoint but <names>` for a complement.
    public var description: String {
        if self == .everything { return "anywhere" }
        var parts: [String] = []
        if ipv4.isFull && ipv6.isFull {
            parts.append("any address")
        } else if ipv4.isFull {
            parts.append("0.0.0.0/0")
            parts += EndpointSet(ipv6: ipv6).cidrs.map(\.description)
        } else if ipv6.isFull {
            parts += EndpointSet(ipv4: ipv4).cidrs.map(\.description)
            parts.append("::/0")
        } else {
            // The first six networks and the count: a set cut by thousands of rules has
            // hundreds of thousands of networks, and is named by a few.
            var count = 0
            visitBlocks { cidr in
                if count < 6 { parts.append(cidr.description) }
                count += 1
            }
            if count > 6 {
                parts.removeLast()
                parts.append("and \(count - 5) more networks")
            }
        }
        // Any address of a family reaches every named endpoint too (every instance of a group
        // has an address), so the names go without saying.
        let anyAddress = ipv4.isFull || ipv6.isFull
        if excludesNames && !(names.isEmpty && anyAddress) {
            parts.append(
                names.isEmpty
                    ? "any named endpoint"
                    : "any named endpoint but \(names.sorted().joined(separator: ", "))")
        } else {
            parts += names.sorted()
        }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }

    private static func value(_ address: IPAddress) -> UInt128 {
        UInt128(address.high) << 64 | UInt128(address.low)
    }

    /// Calls `body` with the start and prefix length of each CIDR block that exactly covers
    /// `lower...upper` in an address space of `bits` bits, in order.
    private static func visitBlocks(
        _ lower: UInt128, _ upper: UInt128, bits: Int, _ body: (UInt128, Int) -> Void
    ) {
        var start = lower
        while true {
            // The largest block that starts at `start` and ends within `upper`.
            var size = start == 0 ? bits : start.trailingZeroBitCount
            size = min(size, bits)
            while size > 0 {
                let last = start &+ ((size >= 128 ? UInt128.max : (UInt128(1) << size) - 1))
                if last >= start && last <= upper { break }
                size -= 1
            }
            body(start, bits - size)
            let last = start &+ (size >= 128 ? UInt128.max : (UInt128(1) << size) - 1)
            if last >= upper { break }
            start = last + 1
        }
    }
}
