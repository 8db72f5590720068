import TopologyModel

// What security group rules allow, whatever format wrote them: the AWS reader (which reads
// `describe-security-groups` JSON) and the Terraform reader (which reads `aws_security_group`
// and its rule resources) both turn their input into ``GroupRule``s and let
// ``SecurityGroupPermissions`` turn those into permissions, so that the two agree on AWS's
// semantics. Both take what the model requires from ``SecurityGroupPermissions/expected(for:)``.
//
// Named endpoints (``EndpointSet/names``) stand for what a rule names that has no address in
// it:
//
// - the group of a node: `security group <prefix>-<node>`, for example
//   `security group spacelift-lb`, whatever the deployed group is called or its id (the reader
//   resolves ids and names to nodes first, with `--group NODE=ID` winning over the name);
// - a group that is no node's: `security group <id>`, `security group <name>`, or
//   `security group <id> (<name>)` when the input declares both, for example
//   `security group sg-0f1e2d3c4b5a69788 (bastion)`;
// - a managed prefix list: `prefix list <id>`, for example `prefix list pl-63a5400a`.
//
// A group is reached by a rule that references it, or by a rule for any address: `0.0.0.0/0`
// and `::/0` also hold every named endpoint (every instance has an address, and every prefix
// list's networks lie within them), but a narrower CIDR holds no group or prefix list, since
// topogen cannot know which addresses a group's members have.

/// A security group as a rule or a reference names it.
///
/// For example: `.id("sg-0123")` in `describe-security-groups` output, `.name("spacelift-lb")`
/// in topogen's own `security-groups.json`, `.id("aws_security_group.lb")` (a resource address)
/// in Terraform, or `.node(.lb)` when the reader already knows the node.
enum GroupReference: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The group of a node, already resolved.
    case node(Node)
    /// A group id (`sg-...`), or a Terraform resource address.
    case id(String)
    /// A group name (`GroupName`, Terraform's `name`).
    case name(String)

    /// `server`, `sg-0123`, `spacelift-lb`.
    var description: String {
        switch self {
        case .node(let node): node.rawValue
        case .id(let id): id
        case .name(let name): name
        }
    }

    /// The order warnings list references in.
    static func < (lhs: GroupReference, rhs: GroupReference) -> Bool {
        lhs.description < rhs.description
    }
}

/// One rule of a security group as AWS holds it, format-independent: one direction, one
/// protocol and port range, one peer. A permission of `describe-security-groups` with three
/// peers is three rules; so is an `aws_security_group` `ingress` block with three CIDRs.
///
/// Values keep AWS's spelling and meanings, and ``SecurityGroupPermissions`` interprets them:
/// ``ipProtocol`` is `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (every protocol), or a number
/// (`6`, `17`, `58`, `50`); ``fromPort`` and ``toPort`` are a port range for TCP and UDP,
/// the ICMP type and code for ICMP, `-1` meaning all, and are ignored for `-1` and for other
/// protocols (AWS allows every port of those).
///
/// For example: the server's ingress from the load balancer in topogen's JSON is
/// `GroupRule(group: .name("spacelift-server"), direction: .ingress, ipProtocol: "tcp",
/// fromPort: 1983, toPort: 1983, peer: .group(.name("spacelift-lb")), ...)`.
struct GroupRule: Hashable, Sendable {
    /// Which way the rule admits connections.
    enum Direction: String, Hashable, Sendable {
        /// Connections to the group's members (`IpPermissions`, `ingress`).
        case ingress
        /// Connections from the group's members (`IpPermissionsEgress`, `egress`).
        case egress
    }

    /// The far end of the rule, as written.
    enum Peer: Hashable, Sendable {
        /// An IPv4 network as written, for example `10.0.0.0/16` (`CidrIp`, `cidr_blocks`).
        case cidrIPv4(String)
        /// An IPv6 network as written, for example `::/0` (`CidrIpv6`, `ipv6_cidr_blocks`).
        case cidrIPv6(String)
        /// Another group, or the group itself (`UserIdGroupPairs`, `security_groups`,
        /// `self`, `source_security_group_id`, `referenced_security_group_id`).
        case group(GroupReference)
        /// A managed prefix list by id, for example `pl-63a5400a` (`PrefixListIds`,
        /// `prefix_list_ids`).
        case prefixList(String)
    }

    /// The group the rule belongs to.
    var group: GroupReference
    /// Ingress or egress.
    var direction: Direction
    /// The protocol as AWS writes it: `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or a number.
    var ipProtocol: String
    /// The first port, or the ICMP type; `-1` for all; `nil` when not written.
    var fromPort: Int?
    /// The last port, or the ICMP code; `-1` for all; `nil` when not written.
    var toPort: Int?
    /// The far end.
    var peer: Peer
    /// The rule's description, when it has one. Flow ids before a `:` (as topogen writes
    /// them, `server-vcs, server-image-pull: ...`) become the permission's flows.
    var description: String?
    /// Where the rule is written.
    var origin: SourceLocation
    /// The rule in a few words, for example `spacelift-server egress tcp 443 to 0.0.0.0/0`;
    /// when `nil`, ``SecurityGroupPermissions`` writes one.
    var excerpt: String?

    /// Creates a rule.
    init(
        group: GroupReference, direction: Direction, ipProtocol: String, fromPort: Int?,
        toPort: Int?, peer: Peer, description: String? = nil, origin: SourceLocation,
        excerpt: String? = nil
    ) {
        self.group = group
        self.direction = direction
        self.ipProtocol = ipProtocol
        self.fromPort = fromPort
        self.toPort = toPort
        self.peer = peer
        self.description = description
        self.origin = origin
        self.excerpt = excerpt
    }
}

/// A security group an input declares, to be matched with a node.
///
/// For example: `DeclaredGroup(id: "sg-0123", name: "spacelift-server", location: ...)` from
/// `describe-security-groups`, or `DeclaredGroup(id: "aws_security_group.server",
/// name: "spacelift-server", ...)` from Terraform.
struct DeclaredGroup: Hashable, Sendable {
    /// The group's id (`sg-...`), or its Terraform resource address; `nil` when unknown (as in
    /// topogen's own JSON, written before the groups exist).
    var id: String?
    /// The group's name, when known.
    var name: String?
    /// Where the group is declared.
    var location: SourceLocation

    /// Creates a declaration.
    init(id: String?, name: String?, location: SourceLocation) {
        self.id = id
        self.name = name
        self.location = location
    }

    /// The references that name this group: its id and its name.
    var references: [GroupReference] {
        (id.map { [GroupReference.id($0)] } ?? []) + (name.map { [GroupReference.name($0)] } ?? [])
    }

    /// `sg-0123 (bastion)`, `sg-0123`, `bastion`.
    var label: String {
        switch (id, name) {
        case (let id?, let name?): "\(id) (\(name))"
        case (let id?, nil): id
        case (nil, let name?): name
        case (nil, nil): "a group at \(location)"
        }
    }
}

/// Which group is which node's, and how to name every group as a named endpoint.
///
/// Built by ``match(_:topology:options:idExample:)``: `--group NODE=ID` (``ReadOptions/groups``)
/// wins, matching a declared group's id or name; otherwise a group named `<prefix>-<node>`
/// (``AWSPlacement/groupName(_:)``) is the node's. A reference to a name `<prefix>-<node>` that
/// no input declares is still that node's group, unless `--group` gave the node another.
///
/// For example: with the prefix `spacelift` and no `--group`, the group `sg-0123` named
/// `spacelift-server` is the server's, and `.id("sg-0123")` and `.name("spacelift-server")` both
/// resolve to `.server`.
struct GroupDirectory: Hashable, Sendable {
    /// The node of each reference that stands for one.
    var nodes: [GroupReference: Node]
    /// The label of each declared group that is no node's, by each of its references.
    var labels: [GroupReference: String]
    /// The topology's group name prefix, for endpoint names.
    var namePrefix: String

    /// Creates a directory.
    init(
        nodes: [GroupReference: Node] = [:], labels: [GroupReference: String] = [:],
        namePrefix: String = AWSPlacement.defaultNamePrefix
    ) {
        self.nodes = nodes
        self.labels = labels
        self.namePrefix = namePrefix
    }

    /// The node a reference stands for, if any.
    func node(for reference: GroupReference) -> Node? {
        if case .node(let node) = reference { return node }
        return nodes[reference]
    }

    /// The named endpoint of a referenced group: `security group spacelift-lb` for a node's,
    /// `security group sg-0123 (bastion)` for another.
    func endpointName(for reference: GroupReference) -> String {
        if let node = node(for: reference) {
            return SecurityGroupPermissions.groupEndpoint("\(namePrefix)-\(node)")
        }
        return SecurityGroupPermissions.groupEndpoint(labels[reference] ?? reference.description)
    }

    /// How a rule's group is named in excerpts: `spacelift-server`, `sg-0123 (bastion)`.
    func label(for reference: GroupReference) -> String {
        if let node = node(for: reference) { return "\(namePrefix)-\(node)" }
        return labels[reference] ?? reference.description
    }

    /// Matches declared groups with the nodes that have a group (``SecurityGroupEmitter``'s:
    /// ``SecurityGroupEmitter/groupedNodes(in:)``). A reference to an existing group that stands
    /// for an external node (`aws.securityGroups`) is that node's, named by its id (`security
    /// group sg-01234567`), and a declared group with such an id is not reported as matching
    /// no node.
    ///
    /// - Parameters:
    ///   - declared: The groups the inputs declare, in input order.
    ///   - topology: The model, for the name prefix.
    ///   - options: `--group NODE=ID`, which wins over names.
    ///   - idExample: How an id looks in this format, for hints: `sg-...`, or
    ///     `aws_security_group.NAME`.
    /// - Returns: The directory; the node of each declared group (by its index in `declared`)
    ///   that stands for one; and warnings: a node with no group (all its flows will be
    ///   missing), a `--group` that matches nothing, several groups with a node's name, and
    ///   one line for the groups that match no node.
    static func match(
        _ declared: [DeclaredGroup], topology: Topology, options: ReadOptions, idExample: String
    ) -> (directory: GroupDirectory, matched: [Int: Node], diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var matched: [Int: Node] = [:]
        var taken: Set<Int> = []
        var byID: [String: [Int]] = [:]
        var byName: [String: [Int]] = [:]
        for (index, group) in declared.enumerated() {
            if let id = group.id { byID[id, default: []].append(index) }
            if let name = group.name { byName[name, default: []].append(index) }
        }
        // Nodes given by `--group` first, so that the option wins over another node's name.
        let grouped = SecurityGroupEmitter.groupedNodes(in: topology)
        let order =
            grouped.filter { options.groups[$0] != nil }
            + grouped.filter { options.groups[$0] == nil }
        for node in order {
            let candidates: [Int]
            if let wanted = options.groups[node] {
                candidates = (byID[wanted] ?? byName[wanted] ?? []).filter { !taken.contains($0) }
                if candidates.isEmpty {
                    diagnostics.append(
                        Diagnostic(
                            .warning,
                            "no security group '\(wanted)' for '--group \(node)=\(wanted)'; all flows of '\(node)' are reported missing",
                            hint: "check the id, and that the input holds the group"))
                    continue
                }
            } else {
                let name = topology.aws.groupName(node)
                candidates = (byName[name] ?? []).filter { !taken.contains($0) }
                if candidates.isEmpty {
                    diagnostics.append(
                        Diagnostic(
                            .warning,
                            "no security group for '\(node)' (looked for '\(name)'; use --group \(node)=\(idExample))"
                        ))
                    continue
                }
                if candidates.count > 1 {
                    let labels = candidates.map { "'\(declared[$0].label)'" }
                    diagnostics.append(
                        Diagnostic(
                            .warning,
                            "several security groups are named '\(name)' (\(labels.joined(separator: ", "))); the first is compared",
                            hint: "use --group \(node)=\(idExample), or give the VPC"))
                }
            }
            guard let first = candidates.first else { continue }
            matched[first] = node
            taken.insert(first)
        }
        var directory = GroupDirectory(namePrefix: topology.aws.namePrefix)
        for (index, node) in matched {
            for reference in declared[index].references { directory.nodes[reference] = node }
        }
        for node in grouped where options.groups[node] == nil {
            let reference = GroupReference.name(topology.aws.groupName(node))
            if directory.nodes[reference] == nil && byName[reference.description] == nil {
                directory.nodes[reference] = node
            }
        }
        // Existing groups that stand for external nodes are named by id, as the model names
        // them, whatever else the input says of them; they are not the installation's.
        let existing = Set(topology.aws.securityGroups.values.joined())
        var unmatched: [String] = []
        for (index, group) in declared.enumerated() where matched[index] == nil {
            for reference in group.references where directory.nodes[reference] == nil {
                directory.labels[reference] = group.label
            }
            if let id = group.id, existing.contains(id) { continue }
            unmatched.append("'\(group.label)'")
        }
        for id in existing where directory.nodes[.id(id)] == nil {
            directory.labels[.id(id)] = id
        }
        if !unmatched.isEmpty {
            let shown = unmatched.prefix(5).joined(separator: ", ")
            let more = unmatched.count > 5 ? " and \(unmatched.count - 5) more" : ""
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "\(unmatched.count == 1 ? "1 security group matches" : "\(unmatched.count) security groups match") no node and \(unmatched.count == 1 ? "is" : "are") not compared: \(shown)\(more)"
                ))
        }
        return (directory, matched, diagnostics)
    }
}

/// AWS security group semantics, shared by the AWS and Terraform readers: what the model
/// requires of the groups, and what rules allow.
enum SecurityGroupPermissions {
    /// The named endpoint of a group: `security group spacelift-lb`.
    static func groupEndpoint(_ label: String) -> String { "security group \(label)" }

    /// The named endpoint of a managed prefix list: `prefix list pl-63a5400a`.
    static func prefixListEndpoint(_ id: String) -> String { "prefix list \(id)" }

    /// The endpoints of a network: its addresses and, for `0.0.0.0/0` and `::/0`, every named
    /// endpoint too (any instance has an address).
    static func endpoints(of cidr: CIDR) -> EndpointSet {
        let addresses = EndpointSet(cidrs: [cidr])
        return cidr.isEverything ? addresses.union(.anyName) : addresses
    }

    /// The endpoints of a peer of topogen's own rules.
    static func endpoints(of peer: SecurityGroupRule.Peer, in topology: Topology) -> EndpointSet {
        switch peer {
        case .group(let node): EndpointSet(names: [groupEndpoint(topology.aws.groupName(node))])
        case .cidr(let cidr): endpoints(of: cidr)
        case .prefixList(let list): EndpointSet(names: [prefixListEndpoint(list.id)])
        case .existingGroup(let id): EndpointSet(names: [groupEndpoint(id)])
        }
    }

    /// What the model requires of the security groups: one permission per flow, port and peer
    /// for every rule ``SecurityGroupEmitter`` writes (``SecurityGroupEmitter/placements(for:)``
    /// with its peers), as the ingress or egress of the node whose group holds it. The AWS and
    /// Terraform targets write the same rules, so both readers use this.
    ///
    /// For example: the reference installation requires `server ingress tcp 1983 from
    /// security group spacelift-lb` for the flow `lb-server-http`.
    static func expected(for topology: Topology) -> [Permission] {
        var permissions: [Permission] = []
        for placement in SecurityGroupEmitter().placements(for: topology) {
            let subject = Subject(placement.group, placement.isEgress ? .egress : .ingress)
            let peers: [SecurityGroupRule.Peer]
            let far: Node
            switch placement.far {
            case .group(let node):
                peers = [.group(node)]
                far = node
            case .addresses(let node):
                peers = SecurityGroupEmitter.addressPeers(of: node, in: topology)
                far = node
            }
            for peer in peers {
                permissions.append(
                    Permission(
                        placement.flow, port: placement.port, subject: subject,
                        peer: endpoints(of: peer, in: topology), peerName: far.description))
            }
        }
        return permissions
    }

    /// What rules allow, as permissions of the nodes whose groups hold them; rules of groups
    /// that are no node's are left out. A value that is not AWS's (an unknown protocol, a port
    /// out of range, a malformed CIDR) makes the rule unreadable instead.
    ///
    /// Protocols: `-1` (or `all`) is every protocol and port; `tcp`, `udp` (or `6`, `17`) need
    /// a port range, `-1` meaning all ports; `icmp`, `icmpv6` (or `1`, `58`) take the ICMP type
    /// from ``GroupRule/fromPort`` (`-1` or none: every type) and count as the whole type
    /// whatever the code; every other protocol allows all its traffic, as on AWS.
    ///
    /// For example: `tcp 443-443 to 0.0.0.0/0` on the server's group is
    /// `Permission(server egress, 0.0.0.0/0 and every named endpoint, tcp, 443)`.
    static func permissions(of rules: [GroupRule], directory: GroupDirectory) -> (
        permissions: [Permission], unreadable: [Unreadable]
    ) {
        var permissions: [Permission] = []
        var unreadable: [Unreadable] = []
        permissions.reserveCapacity(rules.count)
        for rule in rules {
            guard let node = directory.node(for: rule.group) else { continue }
            let subject = Subject(node, rule.direction == .ingress ? .ingress : .egress)
            switch permission(of: rule, subject: subject, directory: directory) {
            case .success(let permission): permissions.append(permission)
            case .failure(let reason):
                unreadable.append(
                    Unreadable(location: rule.origin, reason: reason.message, subject: subject))
            }
        }
        return (permissions, unreadable)
    }

    /// Why a rule cannot be read.
    struct Problem: Error, Hashable, Sendable {
        /// In the project's message style.
        var message: String
    }

    /// The permission of one rule.
    static func permission(of rule: GroupRule, subject: Subject, directory: GroupDirectory)
        -> Result<Permission, Problem>
    {
        let peer: EndpointSet
        switch endpoints(of: rule.peer, directory: directory) {
        case .success(let endpoints): peer = endpoints
        case .failure(let problem): return .failure(problem)
        }
        let service: (protocols: ProtocolSet, ports: IntervalSet<UInt16>)
        switch self.service(of: rule) {
        case .success(let value): service = value
        case .failure(let problem): return .failure(problem)
        }
        return .success(
            Permission(
                subject: subject, peer: peer, protocols: service.protocols, ports: service.ports,
                flows: flowIDs(in: rule.description), origin: rule.origin,
                excerpt: rule.excerpt ?? excerpt(of: rule, directory: directory)))
    }

    /// The rule in a few words: `spacelift-server egress tcp 443 to 0.0.0.0/0`, the group
    /// named `groupLabel` when given (the deployed group's own name), else as the directory
    /// names it.
    static func excerpt(of rule: GroupRule, groupLabel: String? = nil, directory: GroupDirectory)
        -> String
    {
        let service: String
        switch rule.ipProtocol.lowercased() {
        case "-1", "all": service = "all traffic"
        default:
            let ports: String
            switch (rule.fromPort, rule.toPort) {
            case (nil, nil): ports = ""
            case (let from?, let to?) where from == to: ports = " \(from)"
            case (let from?, let to?): ports = " \(from)-\(to)"
            case (let from?, nil): ports = " \(from)"
            case (nil, let to?): ports = " -\(to)"
            }
            service = rule.ipProtocol + ports
        }
        let peer: String
        switch rule.peer {
        case .cidrIPv4(let text), .cidrIPv6(let text): peer = text
        case .group(let reference): peer = directory.label(for: reference)
        case .prefixList(let id): peer = id
        }
        let way = rule.direction == .ingress ? "from" : "to"
        return
            "\(groupLabel ?? directory.label(for: rule.group)) \(rule.direction.rawValue) \(service) \(way) \(peer)"
    }

    /// The endpoints of a rule's peer.
    static func endpoints(of peer: GroupRule.Peer, directory: GroupDirectory) -> Result<
        EndpointSet, Problem
    > {
        switch peer {
        case .group(let reference):
            return .success(EndpointSet(names: [directory.endpointName(for: reference)]))
        case .prefixList(let id):
            return .success(EndpointSet(names: [prefixListEndpoint(id)]))
        case .cidrIPv4(let text), .cidrIPv6(let text):
            let family: IPFamily
            if case .cidrIPv4 = peer { family = .ipv4 } else { family = .ipv6 }
            let cidr: CIDR
            do {
                cidr = try CIDR(parsing: text)
            } catch {
                // AWS matches on the network: `10.0.0.1/8` is `10.0.0.0/8`.
                guard case .hostBitsSet(_, let network) = error else {
                    return .failure(
                        Problem(message: "'\(text)' is not a CIDR; the rule is not compared"))
                }
                cidr = network
            }
            guard cidr.family == family else {
                return .failure(
                    Problem(
                        message:
                            "'\(text)' is not an \(family == .ipv4 ? "IPv4" : "IPv6") CIDR; the rule is not compared"
                    ))
            }
            return .success(endpoints(of: cidr))
        }
    }

    /// The protocols and ports (or ICMP types) of a rule.
    static func service(of rule: GroupRule) -> Result<
        (protocols: ProtocolSet, ports: IntervalSet<UInt16>), Problem
    > {
        let name = rule.ipProtocol.lowercased()
        if name == "-1" || name == "all" { return .success((.all, .full)) }
        guard let number = ProtocolSet.number(named: name) else {
            return .failure(
                Problem(
                    message:
                        "protocol '\(rule.ipProtocol)' is not understood; the rule is not compared"
                ))
        }
        let protocols = ProtocolSet(number)
        switch number {
        case 6, 17:
            guard let from = rule.fromPort, let to = rule.toPort else {
                return .failure(
                    Problem(
                        message:
                            "'\(rule.ipProtocol)' without a port range is not understood; the rule is not compared"
                    ))
            }
            if from == -1 && to == -1 { return .success((protocols, .full)) }
            guard (0...65535).contains(from), (0...65535).contains(to), from <= to else {
                return .failure(
                    Problem(
                        message:
                            "port range '\(from)-\(to)' is not understood; the rule is not compared"
                    ))
            }
            return .success((protocols, IntervalSet([UInt16(from)...UInt16(to)])))
        case 1, 58:
            guard let type = rule.fromPort, type != -1 else { return .success((protocols, .full)) }
            guard (0...255).contains(type) else {
                return .failure(
                    Problem(
                        message:
                            "ICMP type '\(type)' is not understood; the rule is not compared"))
            }
            return .success((protocols, IntervalSet([UInt16(type)...UInt16(type)])))
        default:
            return .success((protocols, .full))
        }
    }

    /// The flow ids a description starts with, before a `:`, as topogen writes them:
    /// `server-vcs, server-image-pull: Server egress VCS; ...` names two flows. A description
    /// not in that shape names none.
    static func flowIDs(in description: String?) -> [String] {
        guard let description, let colon = description.firstIndex(of: ":") else { return [] }
        let ids = description[..<colon].split(separator: ",").map {
            String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
        }
        let valid = ids.allSatisfy { id in
            !id.isEmpty
                && id.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                }
        }
        return valid ? ids : []
    }
}
