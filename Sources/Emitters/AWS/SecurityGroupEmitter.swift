public import TopologyModel

/// Renders flows as AWS security groups: `security-groups.json`, in the shape of
/// `aws ec2 describe-security-groups` output, and `apply.sh`, which creates the groups with the
/// AWS CLI and converges their rules to the JSON.
///
/// One group per component (server, drain, scheduler, every worker pool's `worker-NAME`, the
/// VCS gateway), one for the load balancer, one for the VCS gateway's load balancer when there
/// is a gateway, and one for the database unless existing security groups stand for it
/// (``groupedNodes(in:)``), named `<prefix>-<node>` and tagged `managed-by: topogen`. A flow
/// between two groups is an egress rule on the source's group that references the destination's
/// group, and an ingress rule on the destination's group that references the source's; a flow
/// to or from an external node uses what stands for it on AWS (``addressPeers(of:in:)``): its
/// existing security groups and prefix lists when given (`UserIdGroupPairs` by `GroupId`,
/// `PrefixListIds`), otherwise its CIDRs (`IpRanges`, `Ipv6Ranges`). The rules of an existing
/// group (an RDS database's, a VPC endpoint's) are not topogen's: only the installation's side
/// of each flow is written, and the existing group must admit it. A worker pool placed
/// `external` is outside the VPC: its group is not referenced, its workers reach the load
/// balancer at its addresses, and the load balancer admits them as clients. Egress is exactly
/// the flows: no allow-all rule. Security groups never filter the VPC resolver, so there are no
/// DNS rules.
///
/// For example: the worker group of the reference installation has the egress permission
/// `tcp 443` with the peers `0.0.0.0/0`, `::/0` (object storage, VCS, registries,
/// infrastructure) and the group `spacelift-lb` (the server's public endpoint).
public struct SecurityGroupEmitter: Emitter {
    /// The JSON file.
    public static let fileName = "security-groups.json"
    /// The script that applies it.
    public static let scriptName = "apply.sh"
    /// The nodes that get a group, in order: the components, the load balancer, the VCS
    /// gateway's load balancer when there is a gateway, and the database unless
    /// `aws.securityGroups` gives existing groups for it (then those stand for it, and topogen
    /// creates none).
    ///
    /// For example: the reference installation's are server, drain, scheduler, worker, lb and
    /// postgres.
    static func groupedNodes(in topology: Topology) -> [Node] {
        topology.components + [.lb] + (topology.vcsGateway == nil ? [] : [.vcsGatewayLB])
            + (existingGroups(of: .postgres, in: topology).isEmpty ? [.postgres] : [])
    }

    /// The existing security groups that stand for a node, sorted and without repeats.
    ///
    /// For example: `[sg-0d1e2f3a4b5c6d7e8]` for an RDS database given as
    /// `nodes.postgres.securityGroups`.
    static func existingGroups(of node: Node, in topology: Topology) -> [String] {
        Array(Set(topology.aws.securityGroups[node] ?? [])).sorted()
    }

    /// Creates the emitter.
    public init() {}

    /// Security groups never filter DNS; ECS tasks pull their own images; workers reach the
    /// broker through the load balancer; the groups are the components', the lb's and the
    /// database's.
    public func scope(for topology: Topology) -> FlowScope {
        FlowScope(
            filtersDNS: false, componentsPullImages: true, workersReachBrokerDirectly: false,
            enforcedNodes: Set(Self.groupedNodes(in: topology)))
    }

    /// Renders `security-groups.json` and `apply.sh`.
    ///
    /// - Throws: ``RenderError`` when a group would pass the rule quota.
    public func render(_ topology: Topology) throws(RenderError) -> Rendering {
        let (groups, diagnostics) = try checkedGroups(topology, target: "aws")
        return Rendering(
            files: [
                RenderedFile(
                    name: Self.fileName,
                    contents: SecurityGroupJSON.render(groups, topology: topology)),
                RenderedFile(
                    name: Self.scriptName,
                    contents: ApplyScript.render(groups, topology: topology), isExecutable: true),
            ],
            diagnostics: diagnostics)
    }

    /// The groups, checked against the quota, and the warnings about the topology as a target
    /// of security groups named `target` sees it.
    func checkedGroups(_ topology: Topology, target: String) throws(RenderError)
        -> (groups: [SecurityGroup], diagnostics: [Diagnostic])
    {
        let (groups, addressed) = build(topology)
        try checkQuota(groups, topology: topology)
        return (groups, diagnostics(for: topology, addressed: addressed, target: target))
    }

    /// The groups, in the order server, drain, scheduler, worker, lb, postgres.
    func groups(for topology: Topology) -> [SecurityGroup] { build(topology).groups }

    /// The groups, and the nodes whose addresses or prefix lists their rules use.
    private func build(_ topology: Topology) -> (groups: [SecurityGroup], addressed: Set<Node>) {
        var addressed: Set<Node> = []
        func addressPeers(of node: Node) -> [SecurityGroupRule.Peer] {
            addressed.insert(node)
            return Self.addressPeers(of: node, in: topology)
        }
        // Rules of one group and direction (a side) that match the same traffic (transport,
        // ports and peer) are merged, through an index per side, so that a group with
        // thousands of rules is built in linear time, hashing the group's node once a placement
        // rather than once a rule.
        struct Side: Hashable {
            var node: Node
            var isEgress: Bool
        }
        struct Key: Hashable {
            var transport: Transport
            var ports: PortRange
            var peer: SecurityGroupRule.Peer
        }
        var sides = Numbering<Side>()
        var rules: [[SecurityGroupRule]] = []
        var ruleIndex: [[Key: Int]] = []
        for placement in placements(for: topology) {
            let peers: [SecurityGroupRule.Peer]
            switch placement.far {
            case .group(let node): peers = [.group(node)]
            case .addresses(let node): peers = addressPeers(of: node)
            }
            let (number, isNew) = sides.number(
                of: Side(node: placement.group, isEgress: placement.isEgress))
            if isNew {
                rules.append([])
                ruleIndex.append([:])
            }
            let flow = placement.flow
            for peer in peers {
                let key = Key(
                    transport: placement.port.transport, ports: placement.port.range, peer: peer)
                if let existing = ruleIndex[number][key] {
                    if !rules[number][existing].flows.contains(flow.id) {
                        rules[number][existing].flows.append(flow.id)
                    }
                    if !rules[number][existing].reasons.contains(flow.description) {
                        rules[number][existing].reasons.append(flow.description)
                    }
                } else {
                    ruleIndex[number][key] = rules[number].count
                    rules[number].append(
                        SecurityGroupRule(
                            transport: key.transport, ports: key.ports, peer: peer,
                            flows: [flow.id], reasons: [flow.description]))
                }
            }
        }
        var ingress: [Node: [SecurityGroupRule]] = [:]
        var egress: [Node: [SecurityGroupRule]] = [:]
        for (side, sideRules) in zip(sides.keys, rules) {
            if side.isEgress {
                egress[side.node] = sideRules
            } else {
                ingress[side.node] = sideRules
            }
        }
        let groups = Self.groupedNodes(in: topology).map { node in
            SecurityGroup(
                node: node, name: topology.aws.groupName(node),
                description: AWSText.sanitized(Self.groupDescription(of: node, in: topology)),
                ingress: (ingress[node] ?? []).sorted(), egress: (egress[node] ?? []).sorted())
        }
        return (groups, addressed)
    }

    /// The peers that stand for a node outside the groups: its existing security groups and
    /// its prefix lists when it has either (both, when it has both: each names some of its
    /// members), otherwise its addresses (`0.0.0.0/0` and `::/0` when the user gave none). The
    /// CIDRs of a node with groups or prefix lists are for other targets (host firewalls), and
    /// have no effect here, with a warning.
    ///
    /// For example: `object-storage` with `--prefix-list object-storage=pl-63a5400a:3` is the
    /// prefix list `pl-63a5400a`; `sqs` reached through a VPC endpoint whose group is
    /// `sg-01234567` is that group.
    static func addressPeers(of node: Node, in topology: Topology) -> [SecurityGroupRule.Peer] {
        let groups = existingGroups(of: node, in: topology).map {
            SecurityGroupRule.Peer.existingGroup($0)
        }
        let lists = (topology.aws.prefixLists[node] ?? []).map {
            SecurityGroupRule.Peer.prefixList($0)
        }
        if !groups.isEmpty || !lists.isEmpty { return lists + groups }
        return topology.addresses(of: node).map { .cidr($0) }
    }

    /// Whether existing security groups or prefix lists stand for a node on AWS, so that its
    /// CIDRs are not used.
    static func isNamedOnAWS(_ node: Node, in topology: Topology) -> Bool {
        !existingGroups(of: node, in: topology).isEmpty
            || !(topology.aws.prefixLists[node] ?? []).isEmpty
    }

    /// Where one port of one flow becomes a rule: on which group, in which direction, and
    /// what stands for the far end.
    struct Placement: Hashable, Sendable {
        /// What stands for the far end of a rule.
        enum FarEnd: Hashable, Sendable {
            /// Another group of the installation.
            case group(Node)
            /// The addresses (CIDRs or prefix lists) of a node.
            case addresses(Node)
        }

        var group: Node
        var isEgress: Bool
        var flow: Flow
        var port: Port
        var far: FarEnd
    }

    /// Every rule the flows make, before peers are expanded: a flow between two groups is an
    /// egress rule on the source's group and an ingress rule on the destination's, each
    /// referencing the other; a flow with an external node is one rule on the grouped end. The
    /// AWS and Terraform targets both build on this, so they cannot disagree.
    func placements(for topology: Topology) -> [Placement] {
        var placements: [Placement] = []
        let grouped = Set(Self.groupedNodes(in: topology))
        for flow in flows(for: topology) {
            let sourceGrouped = grouped.contains(flow.source)
            let destinationGrouped = grouped.contains(flow.destination)
            // Workers outside the VPC cannot be referenced by group, nor reference the lb's.
            let referenceable = ![flow.source, flow.destination].contains {
                topology.workerPool(of: $0)?.placement == .external
            }
            for port in flow.ports {
                if sourceGrouped {
                    let far: Placement.FarEnd =
                        destinationGrouped && referenceable
                        ? .group(flow.destination) : .addresses(flow.destination)
                    placements.append(
                        Placement(
                            group: flow.source, isEgress: true, flow: flow, port: port, far: far))
                }
                if destinationGrouped && (!sourceGrouped || referenceable) {
                    let far: Placement.FarEnd =
                        sourceGrouped ? .group(flow.source) : .addresses(flow.source)
                    placements.append(
                        Placement(
                            group: flow.destination, isEgress: false, flow: flow, port: port,
                            far: far))
                } else if destinationGrouped && topology.hasAddresses(flow.source) {
                    // An external pool with addresses is admitted at them; one without is
                    // among the clients, which the lb admits anyway.
                    placements.append(
                        Placement(
                            group: flow.destination, isEgress: false, flow: flow, port: port,
                            far: .addresses(flow.source)))
                }
            }
        }
        return placements
    }

    /// The description of a node's group, before sanitizing.
    ///
    /// For example: `Spacelift workers of pool 'eu': runs and tasks (managed by topogen)`
    /// (sanitized to `... of pool eu: ...`).
    static func groupDescription(of node: Node, in topology: Topology) -> String {
        switch node.role {
        case .server:
            return "Spacelift server: HTTP and the built-in MQTT broker (managed by topogen)"
        case .drain: return "Spacelift drain: asynchronous job processing (managed by topogen)"
        case .scheduler: return "Spacelift scheduler: cron jobs (managed by topogen)"
        case .worker:
            guard let name = topology.workerPool(of: node)?.name else {
                return "Spacelift workers: runs and tasks (managed by topogen)"
            }
            return "Spacelift workers of pool \(name): runs and tasks (managed by topogen)"
        case .vcsGateway:
            return "Spacelift VCS gateway: remote VCS agents (managed by topogen)"
        case .lb: return "Spacelift load balancer: the public endpoint (managed by topogen)"
        case .vcsGatewayLB:
            return "Spacelift VCS gateway load balancer: HTTPS for VCS agents (managed by topogen)"
        case .postgres: return "Spacelift database: Postgres (managed by topogen)"
        default: return "Spacelift \(node) (managed by topogen)"
        }
    }

    /// Checks every group and direction against the quota, as AWS counts: each CIDR, each group
    /// reference and each prefix list's entries; IPv4 and IPv6 separately, a group reference or
    /// prefix list counting toward both.
    private func checkQuota(_ groups: [SecurityGroup], topology: Topology) throws(RenderError) {
        var diagnostics: [Diagnostic] = []
        let quota = topology.aws.maxRules
        for group in groups {
            for isEgress in [false, true] {
                for family in IPFamily.allCases {
                    let count = Self.ruleCount(group.rules(egress: isEgress), family: family)
                    guard count > quota else { continue }
                    diagnostics.append(
                        Diagnostic(
                            .error,
                            "security group '\(group.name)' would have \(count) \(family == .ipv4 ? "IPv4" : "IPv6") \(isEgress ? "egress" : "ingress") rules; the quota is \(quota)",
                            hint:
                                "give fewer CIDRs or a prefix list, or raise the quota in AWS and pass '--max-rules'"
                        ))
                }
            }
        }
        if !diagnostics.isEmpty { throw RenderError(diagnostics: diagnostics) }
    }

    /// The rules a list of rules counts for in one family's quota.
    static func ruleCount(_ rules: [SecurityGroupRule], family: IPFamily) -> Int {
        rules.reduce(0) { count, rule in
            switch rule.peer {
            case .cidr(let cidr): count + (cidr.family == family ? 1 : 0)
            case .group: count + 1
            case .prefixList(let list): count + list.entries
            case .existingGroup: count + 1
            }
        }
    }

    private func diagnostics(for topology: Topology, addressed: Set<Node>, target: String)
        -> [Diagnostic]
    {
        var diagnostics = unusedAddressWarnings(
            topology, addressed: addressed,
            target: target,
            componentHint: "flows between groups reference the groups, not addresses")
        for node in topology.nodes
        where topology.hasAddresses(node) && Self.isNamedOnAWS(node, in: topology) {
            let what =
                Self.existingGroups(of: node, in: topology).isEmpty
                ? "its prefix list stands for it" : "its security groups stand for it"
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "addresses of '\(node)' have no effect on the \(target) target: \(what)"))
        }
        for (node, _) in topology.aws.prefixLists.sorted(by: { $0.key < $1.key })
        where !addressed.contains(node) {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "'--prefix-list \(node)=...' has no effect on the \(target) target with these options",
                    hint: "no rule of this target reaches '\(node)'"))
        }
        for (node, groups) in topology.aws.securityGroups.sorted(by: { $0.key < $1.key })
        where !groups.isEmpty && !addressed.contains(node) && node != .postgres {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "the security groups of '\(node)' have no effect on the \(target) target with these options",
                    hint: "no rule of this target reaches '\(node)'"))
        }
        return diagnostics
    }
}
