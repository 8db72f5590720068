/// Whose rules a permission is part of, and which way its connections go: a component's
/// ingress or egress, or the egress of the containers a host runs.
///
/// For example: `Subject(.server, .ingress)` prints as `server ingress`.
public struct Subject: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Which way the connections a rule allows go, seen from the subject.
    public enum Direction: String, Hashable, Sendable, CaseIterable {
        /// Connections the subject accepts: the peer is their source.
        case ingress
        /// Connections the subject opens: the peer is their destination.
        case egress
        /// Connections the containers on the subject's host open, forwarded by the host (the
        /// worker's runs): the peer is their destination.
        case containerEgress = "container-egress"
    }

    /// The node whose rules these are.
    public var node: Node
    /// Which way the connections go.
    public var direction: Direction

    /// Creates a subject.
    public init(_ node: Node, _ direction: Direction) {
        self.node = node
        self.direction = direction
    }

    /// `server ingress`, `worker container-egress`.
    public var description: String { "\(node) \(direction.rawValue)" }

    /// The order reports list subjects in: by node, then direction.
    public static func < (lhs: Subject, rhs: Subject) -> Bool {
        guard lhs.node == rhs.node else { return lhs.node < rhs.node }
        let order = Direction.allCases
        return (order.firstIndex(of: lhs.direction) ?? 0)
            < (order.firstIndex(of: rhs.direction) ?? 0)
    }
}

/// Where a rule was written: a file, and a line or a path inside a structured document.
///
/// For example: `SourceLocation(file: "main.tf", line: 12)` prints as `main.tf:12`, and
/// `SourceLocation(file: "groups.json", path: "SecurityGroups[1].IpPermissions[0]")` as
/// `groups.json: SecurityGroups[1].IpPermissions[0]`.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The file, as the user named it.
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// Where in a structured document (JSON), when there is no line.
    public var path: String?

    /// Creates a location.
    public init(file: String, line: Int? = nil, path: String? = nil) {
        self.file = file
        self.line = line
        self.path = path
    }

    /// `file:line`, `file: path`, or the file alone.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let path { text += ": \(path)" }
        return text
    }

    /// The order reports list locations in: by file, line, then path, numbers in paths by
    /// value (`IpRanges[2]` before `IpRanges[10]`).
    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        if (lhs.file, lhs.line ?? 0) != (rhs.file, rhs.line ?? 0) {
            return (lhs.file, lhs.line ?? 0) < (rhs.file, rhs.line ?? 0)
        }
        return naturalOrder(lhs.path ?? "", rhs.path ?? "")
    }

    /// Whether `lhs` sorts before `rhs` with runs of digits compared as numbers.
    private static func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
        var left = lhs.utf8[...]
        var right = rhs.utf8[...]
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        while let a = left.first, let b = right.first {
            if isDigit(a) && isDigit(b) {
                let leftRun = left.prefix(while: isDigit)
                let rightRun = right.prefix(while: isDigit)
                let leftDigits = leftRun.drop { $0 == 48 }
                let rightDigits = rightRun.drop { $0 == 48 }
                if leftDigits.count != rightDigits.count {
                    return leftDigits.count < rightDigits.count
                }
                if !leftDigits.elementsEqual(rightDigits) {
                    return leftDigits.lexicographicallyPrecedes(rightDigits)
                }
                left = left.dropFirst(leftRun.count)
                right = right.dropFirst(rightRun.count)
            } else {
                if a != b { return a < b }
                left = left.dropFirst()
                right = right.dropFirst()
            }
        }
        return left.isEmpty && !right.isEmpty
    }
}

/// What one rule allows, read back from a format, or what the model requires of one: a
/// subject's connections to or from a set of peers, on some protocols and ports. Readers turn
/// every format into permissions, so that one comparison (``Drift``) serves them all.
///
/// The ports are destination ports for TCP, UDP and SCTP, and the ICMP types for ICMP; a rule
/// that names none holds ``IntervalSet/full``.
///
/// For example: the server's security group rule "TCP 1983 from sg-0123" reads as
/// `Permission(subject: server ingress, peer: sg-0123, protocols: tcp, ports: 1983)`.
public struct Permission: Hashable, Sendable {
    /// Whose rule it is, and which way.
    public var subject: Subject
    /// The far end of the connections.
    public var peer: EndpointSet
    /// The IP protocols.
    public var protocols: ProtocolSet
    /// The destination ports, or ICMP types.
    public var ports: IntervalSet<UInt16>
    /// The flows the permission implements: in a model's permissions, the flows it comes
    /// from; in read ones, the flow ids a rule's comment or description names, if any.
    public var flows: [String]
    /// The far end in words, for model permissions: the node, for example `postgres`.
    public var peerName: String?
    /// Where the rule was written, for read permissions.
    public var origin: SourceLocation?
    /// The rule itself in a few words, for read permissions, for example
    /// `-A INPUT -p tcp -j ACCEPT`.
    public var excerpt: String?

    /// Creates a permission.
    public init(
        subject: Subject, peer: EndpointSet, protocols: ProtocolSet,
        ports: IntervalSet<UInt16> = .full, flows: [String] = [], peerName: String? = nil,
        origin: SourceLocation? = nil, excerpt: String? = nil
    ) {
        self.subject = subject
        self.peer = peer
        self.protocols = protocols
        self.ports = ports
        self.flows = flows
        self.peerName = peerName
        self.origin = origin
        self.excerpt = excerpt
    }

    /// The permission of a flow's port, seen from `subject`.
    public init(
        _ flow: Flow, port: Port, subject: Subject, peer: EndpointSet, peerName: String? = nil
    ) {
        self.init(
            subject: subject, peer: peer, protocols: ProtocolSet(port.transport),
            ports: IntervalSet([port.range.lower...port.range.upper]), flows: [flow.id],
            peerName: peerName
                ?? (subject.direction == .ingress ? flow.source : flow.destination)
                .description)
    }

    /// Whether the permission allows nothing.
    public var isEmpty: Bool { peer.isEmpty || protocols.isEmpty || ports.isEmpty }

    /// Whether some connection is allowed by both.
    public func overlaps(_ other: Permission) -> Bool {
        protocols.numbers.overlaps(other.protocols.numbers) && ports.overlaps(other.ports)
            && peer.overlaps(other.peer)
    }

    /// What this permission allows and `other` does not, as disjoint pieces: the peers outside
    /// `other`'s; inside them, the other protocols; and with the common protocols, the other
    /// ports. A piece that is empty is not made (a copy retains every field).
    public func subtracting(_ other: Permission) -> [Permission] {
        guard overlaps(other) else { return [self] }
        var pieces: [Permission] = []
        let outside = peer.subtracting(other.peer)
        if !outside.isEmpty {
            var piece = self
            piece.peer = outside
            pieces.append(piece)
        }
        let inside = peer.intersection(other.peer)
        let otherProtocols = protocols.subtracting(other.protocols)
        if !otherProtocols.isEmpty {
            var piece = self
            piece.peer = inside
            piece.protocols = otherProtocols
            pieces.append(piece)
        }
        let commonProtocols = protocols.intersection(other.protocols)
        let otherPorts = ports.subtracting(other.ports)
        if !commonProtocols.isEmpty && !otherPorts.isEmpty {
            var piece = self
            piece.peer = inside
            piece.protocols = commonProtocols
            piece.ports = otherPorts
            pieces.append(piece)
        }
        return pieces
    }

    /// What this permission allows and none of `others` does, as disjoint pieces.
    ///
    /// Those of `others` with the same protocols, ports and named endpoints are one box once
    /// their addresses are joined, and are subtracted as one: a block list of single addresses
    /// costs one pass over them, not one per address.
    public func subtracting(_ others: [Permission]) -> [Permission] {
        // Indices, not elements: a copy of a permission retains each of its fields.
        var overlapping: [Int] = []
        for index in others.indices where others[index].overlaps(self) {
            overlapping.append(index)
        }
        if overlapping.isEmpty { return [self] }
        var remaining = [self]
        if overlapping.count < 16 {
            for index in overlapping {
                remaining = remaining.flatMap { $0.subtracting(others[index]) }
                if remaining.isEmpty { break }
            }
            return remaining
        }
        // The shapes in order of first appearance, each with its addresses; runs of one
        // shape (a block list) are compared with the last shape, not hashed.
        var shapes:
            [(shape: PermissionShape, ipv4: [ClosedRange<UInt32>], ipv6: [ClosedRange<UInt128>])] =
                []
        var numbers: [PermissionShape: Int] = [:]
        for index in overlapping {
            let shape = PermissionShape(
                protocols: others[index].protocols, ports: others[index].ports,
                names: others[index].peer.names, excludesNames: others[index].peer.excludesNames)
            let number: Int
            if let last = shapes.last, last.shape == shape {
                number = shapes.count - 1
            } else if let known = numbers[shape] {
                number = known
            } else {
                number = shapes.count
                numbers[shape] = number
                shapes.append((shape, [], []))
            }
            shapes[number].ipv4 += others[index].peer.ipv4.ranges
            shapes[number].ipv6 += others[index].peer.ipv6.ranges
        }
        for (shape, ipv4, ipv6) in shapes {
            let other = Permission(
                subject: subject,
                peer: EndpointSet(
                    ipv4: IntervalSet(ipv4), ipv6: IntervalSet(ipv6),
                    names: shape.names, excludesNames: shape.excludesNames),
                protocols: shape.protocols, ports: shape.ports)
            remaining = remaining.flatMap { $0.subtracting(other) }
            if remaining.isEmpty { break }
        }
        return remaining
    }

    /// The protocols and ports in words: `tcp 443`, `udp 53`, `tcp all ports`,
    /// `all protocols`, `icmp types 0-255`.
    public var serviceDescription: String {
        if protocols.isAll { return "all protocols" }
        let numbers = protocols.numbers.ranges.flatMap { $0.map { $0 } }
        let icmp = numbers.allSatisfy { $0 == 1 || $0 == 58 }
        let portless = numbers.allSatisfy { !ProtocolSet.hasPorts($0) && $0 != 1 && $0 != 58 }
        if portless || ports.isFull {
            let scope = numbers.contains(where: ProtocolSet.hasPorts) ? " all ports" : ""
            return "\(protocols)\(scope)"
        }
        return "\(protocols) \(icmp ? "type " : "")\(ports.portList)"
    }
}

/// What permissions share when only their addresses differ: they subtract as one.
private struct PermissionShape: Hashable {
    var protocols: ProtocolSet
    var ports: IntervalSet<UInt16>
    var names: Set<String>
    var excludesNames: Bool
}

extension IntervalSet<UInt16> {
    /// The ports (or ICMP types) as a list, `80,443,8000-8080`.
    var portList: String {
        ranges.map {
            $0.lowerBound == $0.upperBound
                ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)"
        }.joined(separator: ",")
    }
}
