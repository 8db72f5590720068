/// Where the installation lives on AWS: its VPC, how its security groups are named, the
/// managed prefix lists that stand for external nodes, and the account's rule quota.
///
/// For example: the defaults name the server's group `spacelift-server` and allow 60 rules per
/// group and direction, AWS's default quota.
public struct AWSPlacement: Hashable, Sendable {
    /// The default prefix of group names.
    public static let defaultNamePrefix = "spacelift"
    /// AWS's default quota of rules per security group and direction.
    public static let defaultMaxRules = 60

    /// The VPC the groups live in (`--vpc-id`), when given.
    public let vpcID: String?
    /// The prefix of every group name (`--name-prefix`): groups are `<prefix>-<node>`.
    public let namePrefix: String
    /// The rules a group may hold per direction (`--max-rules`), counted as AWS counts them.
    public let maxRules: Int
    /// Managed prefix lists that stand for external nodes (`--prefix-list`), by node.
    public let prefixLists: [Node: [PrefixList]]
    /// Existing security groups that stand for external nodes (a topology file's
    /// `securityGroups`), by node, sorted: a database's group, or a VPC endpoint's.
    public let securityGroups: [Node: [String]]

    /// Creates a placement; the defaults are AWS's and Spacelift's.
    public init(
        vpcID: String? = nil, namePrefix: String = defaultNamePrefix,
        maxRules: Int = defaultMaxRules, prefixLists: [Node: [PrefixList]] = [:],
        securityGroups: [Node: [String]] = [:]
    ) {
        self.vpcID = vpcID
        self.namePrefix = namePrefix
        self.maxRules = maxRules
        self.prefixLists = prefixLists
        self.securityGroups = securityGroups
    }

    /// The name of a node's security group, for example `spacelift-server`.
    public func groupName(_ node: Node) -> String { "\(namePrefix)-\(node)" }
}

/// A managed prefix list: its id and the weight AWS gives it in a group's rule quota (its
/// maximum number of entries).
///
/// For example: `--prefix-list object-storage=pl-63a5400a:3`.
public struct PrefixList: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The id, for example `pl-63a5400a`.
    public let id: String
    /// The rules one reference to it counts for.
    public let entries: Int

    /// Creates a prefix list.
    public init(id: String, entries: Int) {
        self.id = id
        self.entries = entries
    }

    /// The id.
    public var description: String { id }

    /// The order artifacts list values in.
    public static func < (lhs: PrefixList, rhs: PrefixList) -> Bool { lhs.id < rhs.id }
}
