import TopologyModel

/// Writes security groups as `aws ec2 describe-security-groups` prints them, so that the file
/// can be held next to what AWS reports: one permission per protocol and port range with every
/// peer, the four peer lists always present, references to the installation's groups by
/// `GroupName` (the ids exist only once the groups do) and to existing groups that stand for an
/// external node by `GroupId`, keys sorted.
///
/// For example, the start of the server's group:
///
/// ```json
/// {
///     "SecurityGroups": [
///         {
///             "Description": "Spacelift server: HTTP and the built-in MQTT broker (managed by topogen)",
///             "GroupName": "spacelift-server",
///             "IpPermissions": [
///                 {
///                     "FromPort": 1983,
///                     "IpProtocol": "tcp",
///                     "IpRanges": [],
///                     "Ipv6Ranges": [],
///                     "PrefixListIds": [],
///                     "ToPort": 1983,
///                     "UserIdGroupPairs": [
///                         {
///                             "Description": "lb-server-http: Server ingress HTTP 1983",
///                             "GroupName": "spacelift-lb"
///                         }
///                     ]
///                 },
/// ```
enum SecurityGroupJSON {
    static func render(_ groups: [SecurityGroup], topology: Topology) -> String {
        let values = groups.map { group -> JSONValue in
            var members: [JSONMember] = [
                JSONMember(key: "Description", value: .string(group.description)),
                JSONMember(key: "GroupName", value: .string(group.name)),
                JSONMember(key: "IpPermissions", value: permissions(group.ingress, topology)),
                JSONMember(key: "IpPermissionsEgress", value: permissions(group.egress, topology)),
                JSONMember(
                    key: "Tags",
                    value: .array(
                        tags(group).map {
                            .map(["Key": .string($0.key), "Value": .string($0.value)])
                        }
                    )),
            ]
            if let vpc = topology.aws.vpcID {
                members.append(JSONMember(key: "VpcId", value: .string(vpc)))
            }
            return .object(members)
        }
        return JSONValue.map(["SecurityGroups": .array(values)]).rendered() + "\n"
    }

    /// The tags every group carries.
    static func tags(_ group: SecurityGroup) -> [(key: String, value: String)] {
        [("managed-by", "topogen"), ("topogen:node", group.node.rawValue)]
    }

    /// The rules as permissions: one per protocol and port range, with every peer, sorted.
    static func permissions(_ rules: [SecurityGroupRule]) -> [[SecurityGroupRule]] {
        var permissions: [[SecurityGroupRule]] = []
        for rule in rules.sorted() {
            if let last = permissions.last?.first, last.transport == rule.transport,
                last.ports == rule.ports
            {
                permissions[permissions.count - 1].append(rule)
            } else {
                permissions.append([rule])
            }
        }
        return permissions
    }

    private static func permissions(_ rules: [SecurityGroupRule], _ topology: Topology) -> JSONValue
    {
        .array(
            permissions(rules).map { peers in
                var ipv4: [JSONValue] = []
                var ipv6: [JSONValue] = []
                var lists: [JSONValue] = []
                var groups: [JSONValue] = []
                for rule in peers {
                    let description = JSONValue.string(rule.awsDescription)
                    switch rule.peer {
                    case .cidr(let cidr) where cidr.family == .ipv4:
                        ipv4.append(
                            .map(["CidrIp": .string("\(cidr)"), "Description": description]))
                    case .cidr(let cidr):
                        ipv6.append(
                            .map(["CidrIpv6": .string("\(cidr)"), "Description": description]))
                    case .prefixList(let list):
                        lists.append(
                            .map(["Description": description, "PrefixListId": .string(list.id)]))
                    case .group(let node):
                        groups.append(
                            .map([
                                "Description": description,
                                "GroupName": .string(topology.aws.groupName(node)),
                            ]))
                    case .existingGroup(let id):
                        groups.append(.map(["Description": description, "GroupId": .string(id)]))
                    }
                }
                let first = peers[0]
                return .map([
                    "FromPort": .number(Int(first.ports.lower)),
                    "IpProtocol": .string(first.transport.rawValue),
                    "IpRanges": .array(ipv4),
                    "Ipv6Ranges": .array(ipv6),
                    "PrefixListIds": .array(lists),
                    "ToPort": .number(Int(first.ports.upper)),
                    "UserIdGroupPairs": .array(groups),
                ])
            })
    }
}
