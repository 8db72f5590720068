/// An IP network: an address and a prefix length, held canonically.
///
/// A `CIDR` is always a network address: parsing refuses text whose host bits are set and says
/// which network was probably meant. A bare address is read as a single host (`/32` or `/128`).
///
/// For example: `CIDR(parsing: "2600:1F18::/36")` prints as `2600:1f18::/36`, and
/// `CIDR(parsing: "10.0.0.1/8")` throws ``CIDRError/hostBitsSet(_:network:)`` naming `10.0.0.0/8`.
public struct CIDR: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The network address; its host bits are zero.
    public let address: IPAddress
    /// The number of leading bits that name the network: 0–32 for IPv4, 0–128 for IPv6.
    public let prefixLength: Int

    /// Every IPv4 address: `0.0.0.0/0`.
    public static let anyIPv4 = CIDR(uncheckedAddress: IPAddress(ipv4: 0), prefixLength: 0)
    /// Every IPv6 address: `::/0`.
    public static let anyIPv6 = CIDR(
        uncheckedAddress: IPAddress(ipv6High: 0, low: 0), prefixLength: 0)

    /// Parses `ADDRESS/PREFIX` or a bare address.
    ///
    /// - Throws: ``CIDRError`` when the text is no network, or names a host inside one.
    public init(parsing text: String) throws(CIDRError) {
        // Byte by byte: the address up to the first `/`, then one to three decimal digits
        // without a leading zero.
        let parsed =
            text.utf8.withContiguousStorageIfAvailable { Self.parse($0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { Self.parse($0) }
        guard let (address, prefixLength) = parsed else { throw .malformed(text) }
        let network = address.masked(toPrefix: prefixLength)
        guard network == address else {
            throw .hostBitsSet(
                text, network: CIDR(uncheckedAddress: network, prefixLength: prefixLength))
        }
        self.init(uncheckedAddress: address, prefixLength: prefixLength)
    }

    /// The address and prefix length of `ADDRESS/PREFIX` or a bare address, nil when malformed.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (IPAddress, Int)? {
        let slash = bytes.firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
        guard let address = IPAddress.parse(UnsafeBufferPointer(rebasing: bytes[..<slash])) else {
            return nil
        }
        guard slash < bytes.count else { return (address, address.bitWidth) }
        let digits = bytes[(slash + 1)...]
        guard !digits.isEmpty, digits.count <= 3,
            digits.count == 1 || digits.first != UInt8(ascii: "0")
        else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard value <= address.bitWidth else { return nil }
        return (address, value)
    }

    init(uncheckedAddress address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The address family of the network.
    public var family: IPFamily { address.family }

    /// The last address of the network.
    public var lastAddress: IPAddress { address.filled(afterPrefix: prefixLength) }

    /// Whether this network covers the whole of its address family.
    public var isEverything: Bool { prefixLength == 0 }

    /// Whether every address of `other` lies inside this network.
    public func contains(_ other: CIDR) -> Bool {
        other.family == family && other.prefixLength >= prefixLength
            && other.address.masked(toPrefix: prefixLength) == address
    }

    /// The networks that contain this one (itself included) among those of the given prefix
    /// lengths, in the order of `lengths`: for `10.1.0.0/16` and `[0, 8, 16, 24]`, `0.0.0.0/0`,
    /// `10.0.0.0/8` and `10.1.0.0/16`. Looking these up finds a network's covers in a set of
    /// networks of those lengths without comparing every pair, in as many lookups as lengths.
    public func supernets(ofLengths lengths: [Int]) -> [CIDR] {
        lengths.compactMap(supernet(ofLength:))
    }

    /// The network of prefix length `length` that contains this one (itself for its own
    /// length); nil when `length` is longer than this network's: for `10.1.0.0/16`, length 8
    /// is `10.0.0.0/8` and length 24 is nil.
    public func supernet(ofLength length: Int) -> CIDR? {
        guard length >= 0, length <= prefixLength else { return nil }
        return CIDR(uncheckedAddress: address.masked(toPrefix: length), prefixLength: length)
    }

    /// The canonical text, for example `10.0.0.0/8` or `2001:db8::/32`.
    public var description: String {
        String(unsafeUninitializedCapacity: IPAddress.maximumTextLength + 4) { buffer in
            let slash = address.write(into: buffer, at: 0)
            buffer[slash] = UInt8(ascii: "/")
            return IPAddress.writeDecimal(prefixLength, into: buffer, at: slash + 1)
        }
    }

    /// The order artifacts list values in.
    public static func < (lhs: CIDR, rhs: CIDR) -> Bool {
        (lhs.address, lhs.prefixLength) < (rhs.address, rhs.prefixLength)
    }
}

/// Why a text is not a ``CIDR``.
public enum CIDRError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text is neither `ADDRESS/PREFIX` nor an address, for example `10.0.0.300/8`.
    case malformed(String)
    /// The text names a host inside a network, for example `10.0.0.1/8` inside `10.0.0.0/8`.
    case hostBitsSet(String, network: CIDR)

    /// The problem in words, with the offending text quoted.
    public var description: String {
        switch self {
        case .malformed(let text):
            return "'\(text)' is not a CIDR (expected ADDRESS/PREFIX, for example '10.0.0.0/16')"
        case .hostBitsSet(let text, let network):
            return "'\(text)' has host bits set; did you mean '\(network)'?"
        }
    }
}
