/// An inclusive range of port numbers, 1 to 65535.
///
/// For example: `PortRange(parsing: "443")` is the single port `443`, and
/// `PortRange(parsing: "30000-32767")` prints as `30000-32767`.
public struct PortRange: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first port of the range.
    public let lower: UInt16
    /// The last port of the range; equal to ``lower`` for a single port.
    public let upper: UInt16

    /// Creates the range of one port.
    ///
    /// - Precondition: `port` is not 0.
    public init(_ port: UInt16) {
        precondition(port != 0, "port 0 is not a port")
        lower = port
        upper = port
    }

    /// Creates a range of ports; `nil` when `lower` is 0 or greater than `upper`.
    public init?(_ lower: UInt16, _ upper: UInt16) {
        guard lower >= 1, lower <= upper else { return nil }
        self.lower = lower
        self.upper = upper
    }

    /// Parses `N` or `N-M`.
    ///
    /// - Throws: ``PortError`` when a number is missing, not a port, or the range is reversed.
    public init(parsing text: String) throws(PortError) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let lower = try Self.port(parts[0], in: text)
        let upper = parts.count == 2 ? try Self.port(parts[1], in: text) : lower
        guard let range = PortRange(lower, upper) else { throw .reversed(text) }
        self = range
    }

    private static func port(_ digits: Substring, in text: String) throws(PortError) -> UInt16 {
        // Leading zeros are refused, as in addresses: `070` is no way to write a port.
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit),
            digits == "0" || digits.first != "0"
        else { throw .malformed(text) }
        guard digits.count <= 5, let value = Int(digits), (1...65535).contains(value) else {
            throw .outOfRange(text)
        }
        return UInt16(value)
    }

    /// Whether the range is a single port.
    public var isSinglePort: Bool { lower == upper }

    /// Whether every port of `other` is in this range.
    public func contains(_ other: PortRange) -> Bool {
        lower <= other.lower && other.upper <= upper
    }

    /// `443` for one port, `30000-32767` for a range.
    public var description: String { isSinglePort ? "\(lower)" : "\(lower)-\(upper)" }

    /// The order artifacts list values in.
    public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
        (lhs.lower, lhs.upper) < (rhs.lower, rhs.upper)
    }
}

/// Why a text is not a port or port range.
public enum PortError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text is not a number, for example `https`.
    case malformed(String)
    /// A number is outside 1–65535, for example `70000` or `0`.
    case outOfRange(String)
    /// The range ends before it starts, for example `2000-1000`.
    case reversed(String)

    /// The problem in words, with the offending text quoted.
    public var description: String {
        switch self {
        case .malformed(let text), .outOfRange(let text), .reversed(let text):
            "'\(text)': \(reason)"
        }
    }

    /// The problem in words, without the offending text: what a port must be.
    public var reason: String {
        switch self {
        case .malformed: "not a port number; a port is a number from 1 to 65535"
        case .outOfRange: "out of range; a port is a number from 1 to 65535"
        case .reversed: "the range ends before it starts"
        }
    }
}

/// A transport protocol that a flow uses.
public enum Transport: String, Hashable, Sendable, CaseIterable, Comparable {
    /// TCP.
    case tcp
    /// UDP.
    case udp

    /// The order artifacts list values in.
    public static func < (lhs: Transport, rhs: Transport) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A transport and a port range: what a flow may connect to on its destination.
///
/// For example: `Port(.udp, 53)` prints as `53/udp`.
public struct Port: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The transport protocol.
    public let transport: Transport
    /// The destination ports.
    public let range: PortRange

    /// Creates a port of one transport and a range.
    public init(_ transport: Transport, _ range: PortRange) {
        self.transport = transport
        self.range = range
    }

    /// Creates a port of one transport and one port number.
    public init(_ transport: Transport, _ number: UInt16) {
        self.init(transport, PortRange(number))
    }

    /// `443/tcp` or `30000-32767/tcp`.
    public var description: String { "\(range)/\(transport.rawValue)" }

    /// The order artifacts list values in.
    public static func < (lhs: Port, rhs: Port) -> Bool {
        (lhs.range, lhs.transport) < (rhs.range, rhs.transport)
    }
}
