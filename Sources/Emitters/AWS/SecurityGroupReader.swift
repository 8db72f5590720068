import TopologyModel

/// Reads `aws ec2 describe-security-groups` output (and topogen's own `security-groups.json`,
/// which has the same shape) back into permissions, for `topogen diff --target aws`.
///
/// - Groups are matched with nodes as ``GroupDirectory/match(_:topology:options:idExample:)``
///   says: `--group NODE=sg-...` wins, otherwise the group named `<prefix>-<node>`
///   (`--name-prefix`). Groups of other VPCs than `--vpc-id` (when given) are left out with a
///   warning, and so are groups that match no node. A node whose group is absent has every
///   flow missing, with a warning that says which name was looked for.
/// - A reference to another group (`UserIdGroupPairs`, by `GroupId`, or by `GroupName` as
///   topogen writes it) is that group's named endpoint (`security group spacelift-lb`); a
///   group that is no node's stays a named endpoint of its own (`security group sg-0123`).
/// - Every rule counts, including the allow-all egress (`-1` to `0.0.0.0/0`) AWS gives a new
///   group: it makes the group's egress broader than the model.
/// - The semantics of protocols, ports and peers are ``SecurityGroupPermissions``', shared with
///   the Terraform reader.
/// - Locations are JSON paths (`security-groups.json:
///   SecurityGroups[2].IpPermissionsEgress[0].IpRanges[1]`) and excerpts say the rule in AWS's
///   terms (`spacelift-server egress tcp 443 to 0.0.0.0/0`).
///
/// For example: a `describe-security-groups` of a VPC where someone opened `tcp 22` to
/// `0.0.0.0/0` on the server's group reads as the model's permissions plus one that
/// ``Drift`` reports as extra, at `SecurityGroups[0].IpPermissions[3].IpRanges[0]`.
struct SecurityGroupReader: RuleReader {
    /// What the model requires of the groups: ``SecurityGroupPermissions/expected(for:)``.
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        SecurityGroupPermissions.expected(for: topology)
    }

    /// Reads the groups of every input (several files are one account's groups together).
    ///
    /// - Throws: ``ReadError`` when an input is not JSON or not in the shape of
    ///   `describe-security-groups` output.
    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        var described: [DescribedGroup] = []
        for input in inputs { described += try SecurityGroupReadingJSON.groups(in: input) }
        var diagnostics: [Diagnostic] = []
        var kept: [DescribedGroup] = []
        var elsewhere: [DescribedGroup] = []
        var seenIDs: Set<String> = []
        var repeated: [String] = []
        for group in described {
            if let id = group.id, !seenIDs.insert(id).inserted {
                repeated.append("'\(id)'")
                continue
            }
            if let vpc = topology.aws.vpcID, let own = group.vpcID, own != vpc {
                elsewhere.append(group)
            } else {
                kept.append(group)
            }
        }
        if !repeated.isEmpty {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "security groups \(Self.list(repeated)) are given more than once; the first of each is compared"
                ))
        }
        if let vpc = topology.aws.vpcID, !elsewhere.isEmpty {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "\(elsewhere.count == 1 ? "1 security group is" : "\(elsewhere.count) security groups are") in other VPCs than '\(vpc)' and not compared: \(Self.list(elsewhere.map { "'\(Self.label(of: $0))'" }))",
                    hint: "the VPC is '--vpc-id'"))
        }
        let declared = kept.map { DeclaredGroup(id: $0.id, name: $0.name, location: $0.location) }
        let (found, matched, warnings) = GroupDirectory.match(
            declared, topology: topology, options: options, idExample: "sg-...")
        var directory = found
        diagnostics += warnings
        for group in elsewhere {
            let label = Self.label(of: group)
            for reference in [group.id.map { GroupReference.id($0) }].compactMap({ $0 })
            where directory.nodes[reference] == nil && directory.labels[reference] == nil {
                directory.labels[reference] = label
            }
        }
        var rules: [GroupRule] = []
        for (index, group) in kept.enumerated() {
            guard let node = matched[index] else { continue }
            for var rule in try group.rules() {
                rule.excerpt = SecurityGroupPermissions.excerpt(
                    of: rule, groupLabel: group.label, directory: directory)
                rule.group = .node(node)
                rules.append(rule)
            }
        }
        let (permissions, unreadable) = SecurityGroupPermissions.permissions(
            of: rules, directory: directory)
        return DeployedRules(
            permissions: permissions, compared: .everything, unreadable: unreadable,
            diagnostics: diagnostics)
    }

    /// `sg-0123 (bastion)`, `sg-0123` or `bastion`.
    private static func label(of group: DescribedGroup) -> String {
        DeclaredGroup(id: group.id, name: group.name, location: group.location).label
    }

    /// The first five items, and how many more.
    private static func list(_ items: [String]) -> String {
        items.prefix(5).joined(separator: ", ")
            + (items.count > 5 ? " and \(items.count - 5) more" : "")
    }
}
