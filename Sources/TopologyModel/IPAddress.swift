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
        let parsed =
            text.utf8.withContiguousStorageIfAvailable { Self.parse($0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { Self.parse($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Parses the UTF-8 of an address, byte by byte: IPv6 when it holds a colon.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        if bytes.contains(UInt8(ascii: ":")) {
            guard let (high, low) = parseIPv6(bytes) else { return nil }
            return IPAddress(ipv6High: high, low: low)
        }
        guard let value = parseIPv4(bytes[...]) else { return nil }
        return IPAddress(ipv4: value)
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
        String(unsafeUninitializedCapacity: Self.maximumTextLength) { write(into: $0, at: 0) }
    }

    /// The most bytes the canonical text of an address takes:
    /// `ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff` and `::ffff:255.255.255.255` fit.
    static let maximumTextLength = 39

    /// Writes the canonical text into `buffer` from `start`; returns the index after it.
    func write(into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        switch family {
        case .ipv4:
            return Self.writeIPv4(UInt32(truncatingIfNeeded: low), into: buffer, at: start)
        case .ipv6:
            return Self.writeIPv6(high: high, low: low, into: buffer, at: start)
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

    /// Four decimal octets of one to three digits, separated by dots, without leading zeros
    /// (some tools read them as octal).
    private static func parseIPv4(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var leadingZero = false
        var octets = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | octet
                octets += 1
                (octet, digits, leadingZero) = (0, 0, false)
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            guard digits < 3, !leadingZero else { return nil }
            if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
            octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
            digits += 1
            guard octet <= 255 else { return nil }
        }
        guard digits > 0, octets == 3 else { return nil }
        return value << 8 | octet
    }

    /// RFC 4291 text, byte by byte: up to eight groups of one to four hexadecimal digits
    /// separated by colons, one `::` standing for one or more zero groups, and an optional
    /// dotted quad as the last 32 bits (`::ffff:192.0.2.1`).
    private static func parseIPv6(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        let colon = UInt8(ascii: ":")
        var groups = SIMD8<UInt16>()
        var count = 0
        var compression = -1
        var index = 0
        if bytes.count >= 2, bytes[0] == colon, bytes[1] == colon {
            compression = 0
            index = 2
            if index == bytes.count { return (0, 0) }
        } else if bytes.first == colon {
            return nil
        }
        while true {
            // One group, or the dotted quad that ends the address.
            let start = index
            var group: UInt16 = 0
            while index < bytes.count, index - start < 5, let digit = hexDigit(bytes[index]) {
                group = group << 4 | digit
                index += 1
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                guard count <= 6, let value = parseIPv4(bytes[start...]) else { return nil }
                groups[count] = UInt16(value >> 16)
                groups[count + 1] = UInt16(value & 0xFFFF)
                count += 2
                break
            }
            guard index > start, index - start <= 4, count < 8 else { return nil }
            groups[count] = group
            count += 1
            if index == bytes.count { break }
            guard bytes[index] == colon, index + 1 < bytes.count else { return nil }
            index += 1
            if bytes[index] == colon {
                guard compression < 0 else { return nil }
                compression = count
                index += 1
                if index == bytes.count { break }
            }
        }
        if compression >= 0 {
            guard count < 8 else { return nil }
            let shift = 8 - count
            var moved = count - 1
            while moved >= compression {
                groups[moved + shift] = groups[moved]
                groups[moved] = 0
                moved -= 1
            }
        } else {
            guard count == 8 else { return nil }
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<4 {
            high = high << 16 | UInt64(groups[index])
            low = low << 16 | UInt64(groups[index + 4])
        }
        return (high, low)
    }

    @inline(__always) private static func hexDigit(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt16(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Writes a dotted quad.
    private static func writeIPv4(
        _ value: UInt32, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int
    ) -> Int {
        var index = start
        for shift in [24, 16, 8, 0] as [UInt32] {
            if shift != 24 {
                buffer[index] = UInt8(ascii: ".")
                index += 1
            }
            index = writeDecimal(Int((value >> shift) & 0xFF), into: buffer, at: index)
        }
        return index
    }

    /// Writes a non-negative integer in decimal; returns the index after it.
    static func writeDecimal(
        _ value: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int
    ) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var remaining = value
        var index = start + digits - 1
        while index >= start {
            buffer[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            index -= 1
        }
        return start + digits
    }

    /// Writes RFC 5952 text: lower-case groups without leading zeros, the longest run of two
    /// or more zero groups (the first on a tie) as `::`, and an IPv4-mapped address (section 5)
    /// ending in dotted decimal.
    private static func writeIPv6(
        high: UInt64, low: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int
    ) -> Int {
        var index = start
        if high == 0, low >> 32 == 0xFFFF {
            for byte in "::ffff:".utf8 {
                buffer[index] = byte
                index += 1
            }
            return writeIPv4(UInt32(truncatingIfNeeded: low), into: buffer, at: index)
        }
        var groups = SIMD8<UInt16>()
        for group in 0..<8 {
            let word = group < 4 ? high : low
            groups[group] = UInt16(truncatingIfNeeded: word >> UInt64((3 - group % 4) * 16))
        }
        var best = (start: -1, length: 0)
        var group = 0
        while group < 8 {
            guard groups[group] == 0 else {
                group += 1
                continue
            }
            var end = group
            while end < 8, groups[end] == 0 { end += 1 }
            if end - group > best.length { best = (group, end - group) }
            group = end
        }
        if best.length < 2 { best = (-1, 0) }
        group = 0
        while group < 8 {
            if group == best.start {
                buffer[index] = UInt8(ascii: ":")
                buffer[index + 1] = UInt8(ascii: ":")
                index += 2
                group += best.length
                continue
            }
            if group > 0 && group != best.start + best.length {
                buffer[index] = UInt8(ascii: ":")
                index += 1
            }
            let value = groups[group]
            var shift = 12
            while shift > 0 && (value >> UInt16(shift)) == 0 { shift -= 4 }
            while shift >= 0 {
                let digit = UInt8((value >> UInt16(shift)) & 0xF)
                buffer[index] =
                    digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                index += 1
                shift -= 4
            }
            group += 1
        }
        return index
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
