import TopologyModel

/// One security group of `describe-security-groups` output, as read: who it is, where it is,
/// and its JSON object, whose rules ``rules()`` reads only when the group is compared (in a big
/// account, most groups are no node's).
///
/// For example: the group at `SecurityGroups[0]` with the id `sg-0123`, the name
/// `spacelift-server` and the VPC `vpc-0a1b`.
struct DescribedGroup: Sendable {
    /// The group's id, absent in topogen's own JSON.
    var id: String?
    /// The group's name.
    var name: String?
    /// The group's VPC, when written.
    var vpcID: String?
    /// Where the group is: the file and `SecurityGroups[N]`.
    var location: SourceLocation
    /// The group's JSON object.
    fileprivate var object: YAMLValue
    /// The input it is in.
    fileprivate var input: InputText

    /// The group in words: `spacelift-server`, or its id when it has no name.
    var label: String { name ?? id ?? "the group at \(location)" }

    /// Its rules, one per peer; each rule's ``GroupRule/group`` is the group's id, or its name
    /// when it has no id.
    ///
    /// - Throws: ``ReadError`` when a permission is not in AWS's shape.
    func rules() throws(ReadError) -> [GroupRule] {
        try SecurityGroupReadingJSON.rules(of: self)
    }
}

/// Reads the JSON that `aws ec2 describe-security-groups` prints (`{"SecurityGroups": [...]}`,
/// also what topogen writes in `security-groups.json`, or the bare list that
/// `--query SecurityGroups` prints), through ``JSONReader``.
///
/// Each permission (`IpPermissions`, `IpPermissionsEgress`) becomes one ``GroupRule`` per
/// peer in `IpRanges`, `Ipv6Ranges`, `PrefixListIds` and `UserIdGroupPairs`; a pair references
/// its group by `GroupId` (what AWS prints) or, without one, by `GroupName` (what topogen
/// writes). Locations are JSON paths, since JSON has no useful lines:
/// `SecurityGroups[2].IpPermissionsEgress[0].IpRanges[1]`. Keys the reader does not need
/// (`OwnerId`, `Tags`, `NextToken`, ...) are ignored; a missing permission list is empty.
/// The rules of a group are read only when it is compared, so that a big account's other
/// groups cost little, and a malformed rule in them is no error.
///
/// For example: `{"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "spacelift-lb",
/// "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges":
/// [{"CidrIp": "0.0.0.0/0"}]}]}]}` is one group with one ingress rule.
enum SecurityGroupReadingJSON {
    /// The groups of one input.
    ///
    /// - Throws: ``ReadError`` when the text is not JSON, or not in the shape of
    ///   `describe-security-groups` output, naming the file and the line or JSON path.
    static func groups(in input: InputText) throws(ReadError) -> [DescribedGroup] {
        let root: YAMLValue
        do {
            root = try JSONReader.value(input.contents)
        } catch {
            throw syntaxError(error, in: input)
        }
        let list: [YAMLValue]
        let prefix: String
        if let entries = root.mapping {
            guard let groups = root["SecurityGroups"] else {
                let keys = entries.map(\.key).sorted().prefix(3).map { "'\($0)'" }
                    .joined(separator: ", ")
                throw ReadError(
                    SourceLocation(file: input.name),
                    "no 'SecurityGroups' in the JSON\(keys.isEmpty ? "" : " (it has \(keys))")",
                    hint: "give the output of 'aws ec2 describe-security-groups'")
            }
            guard let groups = groups.sequence else {
                throw shapeError(input, "SecurityGroups", "is not a list")
            }
            list = groups
            prefix = "SecurityGroups"
        } else if let groups = root.sequence {
            list = groups
            prefix = ""
        } else {
            throw ReadError(
                SourceLocation(file: input.name), "the JSON is not an object with 'SecurityGroups'",
                hint: "give the output of 'aws ec2 describe-security-groups'")
        }
        var result: [DescribedGroup] = []
        result.reserveCapacity(list.count)
        for (index, value) in list.enumerated() {
            result.append(try group(value, path: "\(prefix)[\(index)]", in: input))
        }
        return result
    }

    /// A group's id, name and VPC, at `path` (`SecurityGroups[3]`); its rules stay unread.
    private static func group(_ object: YAMLValue, path: String, in input: InputText)
        throws(ReadError) -> DescribedGroup
    {
        guard object.mapping != nil else {
            throw shapeError(input, path, "is not a security group (an object)")
        }
        let id = try string(object, "GroupId", path: path, in: input)
        let name = try string(object, "GroupName", path: path, in: input)
        guard id != nil || name != nil else {
            throw shapeError(input, path, "has neither 'GroupId' nor 'GroupName'")
        }
        return DescribedGroup(
            id: id, name: name, vpcID: try string(object, "VpcId", path: path, in: input),
            location: SourceLocation(file: input.name, path: path), object: object, input: input)
    }

    /// The rules of a group.
    fileprivate static func rules(of group: DescribedGroup) throws(ReadError) -> [GroupRule] {
        let reference: GroupReference = group.id.map { .id($0) } ?? .name(group.name ?? "")
        let path = group.location.path ?? ""
        let input = group.input
        var rules: [GroupRule] = []
        for (key, direction) in [
            ("IpPermissions", GroupRule.Direction.ingress), ("IpPermissionsEgress", .egress),
        ] {
            guard let permissions = group.object[key] else { continue }
            guard let permissions = permissions.sequence else {
                throw shapeError(input, "\(path).\(key)", "is not a list")
            }
            for (index, permission) in permissions.enumerated() {
                rules += try self.rules(
                    permission, path: "\(path).\(key)[\(index)]", group: reference,
                    direction: direction, in: input)
            }
        }
        return rules
    }

    /// The rules of one permission at `path`, one per peer: for example two for a permission
    /// with `0.0.0.0/0` in `IpRanges` and `::/0` in `Ipv6Ranges`.
    private static func rules(
        _ object: YAMLValue, path: String, group: GroupReference, direction: GroupRule.Direction,
        in input: InputText
    ) throws(ReadError) -> [GroupRule] {
        guard object.mapping != nil else {
            throw shapeError(input, path, "is not a permission (an object)")
        }
        guard let ipProtocol = try string(object, "IpProtocol", path: path, in: input) else {
            throw shapeError(input, path, "has no 'IpProtocol'")
        }
        let fromPort = try integer(object, "FromPort", path: path, in: input)
        let toPort = try integer(object, "ToPort", path: path, in: input)
        var rules: [GroupRule] = []
        func add(_ peer: GroupRule.Peer, _ entry: YAMLValue, _ entryPath: String)
            throws(ReadError)
        {
            rules.append(
                GroupRule(
                    group: group, direction: direction, ipProtocol: ipProtocol,
                    fromPort: fromPort, toPort: toPort, peer: peer,
                    description: try string(entry, "Description", path: entryPath, in: input),
                    origin: SourceLocation(file: input.name, path: entryPath)))
        }
        for (list, field) in [
            ("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"), ("PrefixListIds", "PrefixListId"),
            ("UserIdGroupPairs", "GroupId"),
        ] {
            guard let entries = object[list] else { continue }
            guard let entries = entries.sequence else {
                throw shapeError(input, "\(path).\(list)", "is not a list")
            }
            for (index, entry) in entries.enumerated() {
                let entryPath = "\(path).\(list)[\(index)]"
                guard entry.mapping != nil else {
                    throw shapeError(input, entryPath, "is not an object")
                }
                let value = try string(entry, field, path: entryPath, in: input)
                switch list {
                case "IpRanges", "Ipv6Ranges", "PrefixListIds":
                    guard let value else {
                        throw shapeError(input, entryPath, "has no '\(field)'")
                    }
                    let peer: GroupRule.Peer =
                        list == "IpRanges"
                        ? .cidrIPv4(value)
                        : list == "Ipv6Ranges" ? .cidrIPv6(value) : .prefixList(value)
                    try add(peer, entry, entryPath)
                default:
                    let name = try string(entry, "GroupName", path: entryPath, in: input)
                    guard
                        let reference = value.map({ GroupReference.id($0) })
                            ?? name.map({ .name($0) })
                    else {
                        throw shapeError(input, entryPath, "has neither 'GroupId' nor 'GroupName'")
                    }
                    try add(.group(reference), entry, entryPath)
                }
            }
        }
        return rules
    }

    /// A string member, `nil` when absent or `null`; any other type is the wrong shape.
    private static func string(
        _ object: YAMLValue, _ key: String, path: String, in input: InputText
    ) throws(ReadError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.string else {
            throw shapeError(input, "\(path).\(key)", "is not a string")
        }
        return text
    }

    /// An integer member (`FromPort`), `nil` when absent or `null`; a string, a boolean or a
    /// fraction is the wrong shape (`-1` and `443.0` are integers).
    private static func integer(
        _ object: YAMLValue, _ key: String, path: String, in input: InputText
    ) throws(ReadError) -> Int? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let number = value.int else {
            throw shapeError(input, "\(path).\(key)", "is not an integer")
        }
        return number
    }

    /// The error of a value in the wrong place or of the wrong type, at its JSON path.
    private static func shapeError(_ input: InputText, _ path: String, _ problem: String)
        -> ReadError
    {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        return ReadError(
            SourceLocation(file: input.name, path: path), "'\(last)' \(problem)",
            hint: "give the output of 'aws ec2 describe-security-groups'")
    }

    /// The error of text that is not JSON, at the line where the reading stopped:
    /// `live.json:3: not JSON: ...`, the reader's message after `not JSON: `.
    private static func syntaxError(_ error: YAMLError, in input: InputText) -> ReadError {
        var message = error.message
        if message.hasPrefix("invalid JSON: ") { message.removeFirst("invalid JSON: ".count) }
        return ReadError(
            SourceLocation(file: input.name, line: error.line), "not JSON: \(message)",
            hint: "give the output of 'aws ec2 describe-security-groups'")
    }
}
