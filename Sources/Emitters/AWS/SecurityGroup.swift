import TopologyModel

/// An AWS security group as topogen builds it from flows: the structured value both AWS
/// targets render, as `describe-security-groups` JSON and as the AWS CLI calls of `apply.sh`.
///
/// For example, the postgres group of the reference installation holds three ingress rules,
/// `tcp 5432` from the groups `spacelift-server`, `spacelift-drain` and `spacelift-scheduler`,
/// and no egress at all.
struct SecurityGroup: Hashable, Sendable {
    /// The node the group stands for.
    var node: Node
    /// The group's name, `<prefix>-<node>`.
    var name: String
    /// The group's description.
    var description: String
    var ingress: [SecurityGroupRule]
    var egress: [SecurityGroupRule]

    /// The rules of one direction.
    func rules(egress isEgress: Bool) -> [SecurityGroupRule] { isEgress ? egress : ingress }
}

/// One rule: a protocol, a port range and one peer, with the flows it implements. AWS reports
/// rules with the same protocol and ports together, one permission with a list of peers.
///
/// For example: `tcp 443-443 to 0.0.0.0/0` for `server-object-storage, server-vcs,
/// server-image-pull`.
struct SecurityGroupRule: Hashable, Sendable, Comparable {
    /// Who is at the other end.
    enum Peer: Hashable, Sendable, Comparable {
        /// Another group of the installation, by node.
        case group(Node)
        /// A network.
        case cidr(CIDR)
        /// A managed prefix list.
        case prefixList(PrefixList)
        /// An existing security group, not the installation's, that stands for an external
        /// node (`aws.securityGroups`), by id: for example an RDS database's `sg-0d1e2f3a4b5c6d7e8`.
        case existingGroup(String)
    }

    var transport: Transport
    var ports: PortRange
    var peer: Peer
    /// The ids of the flows the rule implements, in flow order.
    var flows: [String]
    /// The descriptions of those flows, in the same order, without repeats.
    var reasons: [String]

    /// The rule's description in AWS's character set and length, flow ids first: for example
    /// `server-object-storage, server-vcs: Server egress Object Storage; Server egress VCS`.
    var awsDescription: String {
        // Sanitizing drops characters one by one, so the ids and the rest are sanitized apart.
        let ids = AWSText.sanitized(flows.joined(separator: ", "))
        let full = ids + AWSText.sanitized(": " + reasons.joined(separator: "; "))
        return AWSText.truncated(full, keeping: ids.utf8.count)
    }

    /// The order permissions and peers are listed in.
    static func < (lhs: SecurityGroupRule, rhs: SecurityGroupRule) -> Bool {
        (lhs.transport, lhs.ports, lhs.peer) < (rhs.transport, rhs.ports, rhs.peer)
    }
}

/// Text as AWS accepts it in security group names and descriptions.
enum AWSText {
    /// The longest description AWS accepts.
    static let maximumLength = 255

    /// The text with every character AWS does not allow removed. Every allowed character is
    /// ASCII, so the bytes of the text are filtered: a character of several bytes loses them all.
    static func sanitized(_ text: String) -> String {
        if text.utf8AllSatisfy(isAllowed) { return text }
        return String(unsafeUninitializedCapacity: text.utf8.count) { buffer in
            var count = 0
            for byte in text.utf8 where isAllowed(byte) {
                buffer[count] = byte
                count += 1
            }
            return count
        }
    }

    /// Whether AWS allows the byte in a description.
    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        // The punctuation AWS allows: ` ._-:/()#,@[]+=&;{}!$*`.
        case UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"),
            UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "@"), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: "&"),
            UInt8(ascii: ";"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "*"):
            true
        default: false
        }
    }

    /// The sanitized (so ASCII) text cut to AWS's length, ending in `...` when cut, never
    /// inside its first `keeping` characters (the flow ids).
    static func truncated(_ text: String, keeping: Int) -> String {
        guard text.utf8.count > maximumLength else { return text }
        let length = max(keeping, maximumLength - 3)
        return String(decoding: text.utf8.prefix(length), as: UTF8.self)
            + (length + 3 <= maximumLength ? "..." : "")
    }
}
