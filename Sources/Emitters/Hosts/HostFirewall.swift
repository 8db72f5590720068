import TopologyModel

/// The firewall of one component host (`server`, `worker-eu`, `vcs-gateway`), independent of the tool that loads it: which packets its
/// input, output and (on the worker, for containers) forward paths accept. The iptables and
/// nftables emitters render the same `HostFirewall`, so the two targets cannot disagree.
///
/// The input and output paths accept loopback, replies and related traffic (conntrack
/// `RELATED,ESTABLISHED`) and, for IPv6, neighbour and multicast listener discovery, without
/// which IPv6 does not work; then the role's flows; and drop the rest. The forward path (the
/// worker's containers) accepts replies, drops every new connection into a container bridge,
/// holds the rest to the worker's egress flows, and drops what is left.
///
/// For example: the server's input path holds
/// `HostRule(path: .input, family: .ipv4, peer: nil, port: 1983/tcp, flows: ["lb-server-http"])`,
/// which iptables renders as `-A TOPOGEN-INPUT -p tcp -m tcp --dport 1983 -m comment --comment
/// "lb-server-http" -j ACCEPT`.
struct HostFirewall: Hashable, Sendable {
    /// ICMPv6 types accepted in and out: multicast listener query, report and done (130–132),
    /// router and neighbour discovery (133–136), and MLDv2 reports (143).
    static let icmpv6Types = [130, 131, 132, 133, 134, 135, 136, 143]
    /// The interfaces of Docker's bridges, as iptables writes them (`+` is a wildcard).
    static let containerBridges = ["docker0", "br-+"]

    /// The component whose host this is.
    var role: Node
    /// The flows of the topology that start or end at the role, in flow order.
    var flows: [Flow]
    /// The rules, in order, within each path and family.
    var rules: [HostRule]
    /// The user's reasons of the extra egress flows among the rules' flows, by flow id, which
    /// the rules' comments carry after the ids (see ``HostComment``).
    var reasons: [String: String]

    /// Whether the host filters forwarded container traffic: a worker pool's host (`worker`,
    /// `worker-eu`), whose runs execute in containers.
    var filtersContainers: Bool { role.role == .worker }

    /// The paths the firewall filters.
    var paths: [HostRule.Path] { filtersContainers ? HostRule.Path.allCases : [.input, .output] }

    /// The rules of one path and family.
    func rules(_ path: HostRule.Path, _ family: IPFamily) -> [HostRule] {
        rules.filter { $0.path == path && $0.family == family }
    }

    /// The host firewall of `role` for the flows of a topology; flows that neither start nor
    /// end at the role are ignored, so a caller building every host's firewall may hand each
    /// only its own (see ``flowsByComponent(_:)``).
    init(role: Node, flows allFlows: [Flow], topology: Topology) {
        self.role = role
        let flows = allFlows.filter { $0.source == role || $0.destination == role }
        self.flows = flows
        var reasons: [String: String] = [:]
        for flow in flows where flow.condition == .extraEgress {
            reasons[flow.id] = flow.description
        }
        var rules: [HostRule] = []
        var index: [HostRule.Match: Int] = [:]
        for path in HostRule.Path.allCases where path != .forward || role.role == .worker {
            // Input is the host's own ingress, its far end the source; output and forward are
            // its egress, their far end the destination.
            let ownFlows = flows.filter { (path == .input ? $0.destination : $0.source) == role }
            let farAddresses = ownFlows.map {
                topology.addresses(of: path == .input ? $0.source : $0.destination)
            }
            // About one rule per address and port: grown once, not by doubling.
            let expected = zip(ownFlows, farAddresses).reduce(0) {
                $0 + $1.0.ports.count * $1.1.count
            }
            index.reserveCapacity(index.count + expected)
            rules.reserveCapacity(rules.count + expected)
            for family in IPFamily.allCases {
                for (flow, addresses) in zip(ownFlows, farAddresses) {
                    for cidr in addresses where cidr.family == family {
                        for port in flow.ports {
                            let match = HostRule.Match(
                                path: path, family: family,
                                peer: cidr.isEverything ? nil : cidr, port: port)
                            if let existing = index[match] {
                                if !rules[existing].flows.contains(flow.id) {
                                    rules[existing].flows.append(flow.id)
                                }
                            } else {
                                index[match] = rules.count
                                rules.append(HostRule(match: match, flows: [flow.id]))
                            }
                        }
                    }
                }
            }
        }
        self.rules = rules
        let implemented = Set(rules.flatMap(\.flows))
        self.reasons = reasons.filter { implemented.contains($0.key) }
    }

    /// The flows of each component, in flow order: those that start or end at it. Building
    /// every host's firewall from these is linear in the number of flows, where filtering all
    /// flows for each host would be quadratic with thousands of worker pools.
    static func flowsByComponent(_ flows: [Flow]) -> [Node: [Flow]] {
        var byNode: [Node: [Flow]] = [:]
        for flow in flows {
            if flow.source.kind == .component { byNode[flow.source, default: []].append(flow) }
            if flow.destination.kind == .component && flow.destination != flow.source {
                byNode[flow.destination, default: []].append(flow)
            }
        }
        return byNode
    }

    /// The comments of one rule: its flow ids, split into groups that fit in `limit` bytes,
    /// each followed by the reasons of its extra egress flows (see ``HostComment``).
    func comments(_ rule: HostRule, limit: Int) -> [String] {
        HostComment.comments(flows: rule.flows, reasons: reasons, limit: limit)
    }
}

/// One accepted kind of packet: a path, an address family, the far end's network (any when
/// `nil`), and a destination port; commented with the flows it implements.
struct HostRule: Hashable, Sendable {
    /// Where in the host the packet travels.
    enum Path: String, Hashable, Sendable, CaseIterable {
        /// Packets to the host: the far end is the source.
        case input
        /// Packets from the host: the far end is the destination.
        case output
        /// Packets forwarded for the host's containers: the far end is the destination.
        case forward
    }

    /// What the rule matches.
    struct Match: Hashable, Sendable {
        var path: Path
        var family: IPFamily
        /// The far end's network; `nil` for any address of the family.
        var peer: CIDR?
        var port: Port
    }

    var match: Match
    /// The ids of the flows the rule implements, in flow order.
    var flows: [String]

    var path: Path { match.path }
    var family: IPFamily { match.family }
    var peer: CIDR? { match.peer }
    var port: Port { match.port }
}
