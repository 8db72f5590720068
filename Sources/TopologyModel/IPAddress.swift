/// An IPv4 or IPv6 address, held as numbers rather than text.
///
/// Parsing accepts the usual notations (dotted quad; RFC 4291 text with `::` and an embedded
/// dotted quad) and ``description`` writes the canonical form (RFC 5952 for IPv6), so two
/// spellings of one address compare equal and print alike.
///
/// For example: `2001:DB8:0:0::1` prints as `2001:db8::1`.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The address family.
    public let family: IPFamily
    /// The upper 64 bits of an IPv6 address; zero for IPv4.
    public let high: UInt64
    /// The lower 64 bits of an IPv6 address, or the 32 bits of an IPv4 address.
    public let low: UInt64

    /// Creates an IPv4 address from its 32-bit value.
    public init(ipv4 value: UInt32) {
        family = .ipv4
        high = 0
        low = UInt64(value)
    }

    /// Creates an IPv6 address from its upper and lower 64 bits.
    public init(ipv6High high: UInt64, low: UInt64) {
        family = .ipv6
        self.high = high
        self.low = low
    }

    /// Parses an address written as text; `nil` when the text is no IPv4 or IPv6 address.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let (high, low) = Self.parseIPv6(Substring(text)) else { return nil }
            self.init(ipv6High: high, low: low)
        } else {
            guard let value = Self.parseIPv4(Substring(text)) else { return nil }
            self.init(ipv4: value)
        }
    }

    /// The number of bits in an address of this family: 32 or 128.
    public var bitWidth: Int { family.bitWidth }

    /// The address with every bit after the first `prefixLength` bits cleared.
    public func masked(toPrefix prefixLength: Int) -> IPAddress {
        let (maskHigh, maskLow) = Self.mask(prefixLength: prefixLength, family: family)
        return IPAddress(family: family, high: high & maskHigh, low: low & maskLow)
    }

    /// The address with every bit after the first `prefixLength` bits set: the last address
    /// of the network of that prefix.
    public func filled(afterPrefix prefixLength: Int) -> IPAddress {
        let (maskHigh, maskLow) = Self.mask(prefixLength: prefixLength, family: family)
        switch family {
        case .ipv4:
            return IPAddress(family: family, high: 0, low: low | (~maskLow & 0xFFFF_FFFF))
        case .ipv6:
            return IPAddress(family: family, high: high | ~maskHigh, low: low | ~maskLow)
        }
    }

    /// The canonical text of the address.
    public var description: String {
        switch family {
        case .ipv4:
            let value = UInt32(truncatingIfNeeded: low)
            return [24, 16, 8, 0].map { String((value >> $0) & 0xFF) }.joined(separator: ".")
        case .ipv6:
            return Self.formatIPv6(high: high, low: low)
        }
    }

    /// The order artifacts list values in.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.family.order, lhs.high, lhs.low) < (rhs.family.order, rhs.high, rhs.low)
    }

    private init(family: IPFamily, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    private static func mask(prefixLength: Int, family: IPFamily) -> (UInt64, UInt64) {
        switch family {
        case .ipv4:
            let bits = max(0, min(32, prefixLength))
            let low: UInt64 = bits == 0 ? 0 : (0xFFFF_FFFF << UInt64(32 - bits)) & 0xFFFF_FFFF
            return (0, low)
        case .ipv6:
            let bits = max(0, min(128, prefixLength))
            let highBits = min(bits, 64)
            let lowBits = bits - highBits
            let high: UInt64 = highBits == 0 ? 0 : ~0 << UInt64(64 - highBits)
            let low: UInt64 = lowBits == 0 ? 0 : ~0 << UInt64(64 - lowBits)
            return (high, low)
        }
    }

    private static func parseIPv4(_ text: Substring) -> UInt32? {
        // Byte by byte: four decimal octets of one to three digits, separated by dots.
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var leadingZero = false
        var octets = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | octet
                octets += 1
                (octet, digits, leadingZero) = (0, 0, false)
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            // Leading zeros are refused: some tools read them as octal.
            guard digits < 3, !leadingZero else { return nil }
            if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
            octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
            digits += 1
            guard octet <= 255 else { return nil }
        }
        guard digits > 0, octets == 3 else { return nil }
        return value << 8 | octet
    }

    private static func parseIPv6(_ text: Substring) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var compressionIndex: Int?
        var rest = text
        if rest.hasPrefix("::") {
            compressionIndex = 0
            rest = rest.dropFirst(2)
            if rest.isEmpty { return (0, 0) }
        } else if rest.hasPrefix(":") {
            return nil
        }
        if rest.hasSuffix("::") {
            guard compressionIndex == nil else { return nil }
            rest = rest.dropLast(2)
            let parsed = parseGroups(rest)
            guard let parsed, parsed.count < 8 else { return nil }
            groups = parsed
            compressionIndex = groups.count
        } else {
            let pieces = rest.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
            switch pieces.count {
            case 1:
                guard let parsed = parseGroups(pieces[0]) else { return nil }
                groups = parsed
            case 2:
                guard compressionIndex == nil, let head = parseGroups(pieces[0]),
                    let tail = parseGroups(pieces[1])
                else { return nil }
                groups = head + tail
                compressionIndex = head.count
            default:
                return nil
            }
        }
        if let compressionIndex {
            guard groups.count < 8 else { return nil }
            groups.insert(
                contentsOf: repeatElement(0, count: 8 - groups.count), at: compressionIndex)
        }
        guard groups.count == 8 else { return nil }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }

    /// Parses colon-separated hex groups, the last of which may be a dotted quad.
    private static func parseGroups(_ text: Substring) -> [UInt16]? {
        guard !text.isEmpty, !text.hasPrefix(":"), !text.hasSuffix(":"), !text.contains("::")
        else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, part.contains(".") {
                guard let value = parseIPv4(part) else { return nil }
                groups.append(UInt16(value >> 16))
                groups.append(UInt16(value & 0xFFFF))
            } else {
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit),
                    let group = UInt16(part, radix: 16)
                else { return nil }
                groups.append(group)
            }
        }
        return groups
    }

    private static func formatIPv6(high: UInt64, low: UInt64) -> String {
        // RFC 5952 section 5: an IPv4-mapped address ends in dotted decimal.
        if high == 0, low >> 32 == 0xFFFF {
            return "::ffff:" + IPAddress(ipv4: UInt32(truncatingIfNeeded: low)).description
        }
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64((3 - index % 4) * 16))
        }
        // RFC 5952: compress the longest run of two or more zero groups, the first on a tie.
        var best: (start: Int, length: Int) = (-1, 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[0..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}

/// An address family: IPv4 or IPv6.
public enum IPFamily: String, Hashable, Sendable, CaseIterable {
    /// 32-bit addresses, for example `192.0.2.1`.
    case ipv4
    /// 128-bit addresses, for example `2001:db8::1`.
    case ipv6

    /// The number of bits in an address of this family.
    public var bitWidth: Int { self == .ipv4 ? 32 : 128 }

    fileprivate var order: Int { self == .ipv4 ? 0 : 1 }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
