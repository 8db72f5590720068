import TopologyModel

/// The firewall of one component host, independent of the tool that loads it: which packets its
/// input, output and (on the worker, for containers) forward paths accept. The iptables and
/// nftables emitters render the same `HostFirewall`, so the two targets cannot disagree.
///
/// Every path accepts loopback and established or related traffic, then the role's flows, and
/// drops the rest. IPv6 also accepts neighbour discovery, without which IPv6 does not work at all.
///
/// For example: the server's input path holds
/// `HostRule(path: .input, family: .ipv4, peer: nil, port: 1983/tcp, flows: ["lb-server-http"])`,
/// which iptables renders as `-A TOPOGEN-INPUT -p tcp -m tcp --dport 1983 -m comment --comment
/// lb-server-http -j ACCEPT`.
struct HostFirewall: Hashable, Sendable {
    /// The component whose host this is.
    var role: Node
    /// The rules, in order, within each path and family.
    var rules: [HostRule]
    /// Whether the host filters forwarded container traffic (the worker).
    var filtersContainers: Bool

    /// The rules of one path and family.
    func rules(_ path: HostRule.Path, _ family: IPFamily) -> [HostRule] {
        rules.filter { $0.path == path && $0.family == family }
    }

    /// The host firewall of `role` for the flows of a topology.
    init(role: Node, flows: [Flow], topology: Topology) {
        self.role = role
        filtersContainers = role == .worker
        var rules: [HostRule] = []
        var paths: [(HostRule.Path, KeyPath<Flow, Node>, KeyPath<Flow, Node>)] = [
            (.input, \.destination, \.source), (.output, \.source, \.destination),
        ]
        if filtersContainers { paths.append((.forward, \.source, \.destination)) }
        for (path, own, far) in paths {
            for family in IPFamily.allCases {
                for flow in flows where flow[keyPath: own] == role {
                    let cidrs = topology.addresses(of: flow[keyPath: far]).filter {
                        $0.family == family
                    }
                    for cidr in cidrs {
                        for port in flow.ports {
                            let rule = HostRule(
                                path: path, family: family, peer: cidr.isEverything ? nil : cidr,
                                port: port, flows: [flow.id])
                            if let index = rules.firstIndex(where: { $0.sameMatch(as: rule) }) {
                                if !rules[index].flows.contains(flow.id) {
                                    rules[index].flows.append(flow.id)
                                }
                            } else {
                                rules.append(rule)
                            }
                        }
                    }
                }
            }
        }
        self.rules = rules
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

    var path: Path
    var family: IPFamily
    /// The far end's network; `nil` for any address of the family.
    var peer: CIDR?
    var port: Port
    /// The ids of the flows the rule implements, in flow order.
    var flows: [String]

    /// Whether `other` matches the same packets.
    func sameMatch(as other: HostRule) -> Bool {
        path == other.path && family == other.family && peer == other.peer && port == other.port
    }
}
