import TopologyModel

@testable import Emitters

/// What one target must allow, derived from the model's flows alone: for every flow of
/// `topology.flows(in:)` in the target's scope, each end the target enforces, each port, and the
/// far end as the target names it (addresses, security groups, prefix lists, pod classes).
///
/// It is written independently of the emitters' placement code and of the readers'
/// `expectedPermissions`: only the way each target *names* a node is shared with its reader
/// (the pod classes of ``PodUniverse``, the endpoint names of security groups and prefix
/// lists), since that is the language of the read-back permissions.
///
/// For example: on the iptables host of `server`, the flow `server-postgres` is required as
/// `server egress tcp 5432 to <postgres's CIDRs>`.
struct TargetModel {
    /// One requirement: a flow's port at one enforcing end, with the far end as the target
    /// names it.
    struct Requirement {
        /// The flow.
        var flow: Flow
        /// The port.
        var port: Port
        /// The enforcing end, and which way.
        var subject: Subject
        /// The far end.
        var peer: EndpointSet

        /// The requirement as a permission.
        var permission: Permission {
            Permission(flow, port: port, subject: subject, peer: peer)
        }
    }

    /// The requirements.
    var requirements: [Requirement]
    /// What the target allows besides flows: IPv6 neighbour discovery on hosts.
    var extras: [Permission]
    /// Named endpoints of the target, to try where a far end holds every name.
    var knownNames: [String]

    /// The subjects the target's read-back permissions may have.
    var subjects: Set<Subject> {
        Set(requirements.map(\.subject) + extras.map(\.subject))
    }

    /// Every permission the model grants the target.
    var permissions: [Permission] { requirements.map(\.permission) + extras }

    /// The enforcing ends of a flow, each with its far end: the source's egress and the
    /// destination's ingress, where the target writes rules for them.
    static func ends(of flow: Flow, enforcedAt enforced: Set<Node>) -> [(Subject, Node)] {
        var ends: [(Subject, Node)] = []
        if enforced.contains(flow.source) {
            ends.append((Subject(flow.source, .egress), flow.destination))
        }
        if enforced.contains(flow.destination) {
            ends.append((Subject(flow.destination, .ingress), flow.source))
        }
        return ends
    }

    /// The model of one host's firewall (iptables, nftables): the host's flows in and out, and
    /// for a worker also its containers' egress; far ends are their CIDRs (any address when
    /// none); IPv6 neighbour discovery in and out.
    static func host(_ topology: Topology, role: Node) -> TargetModel {
        var requirements: [Requirement] = []
        for flow in topology.flows(in: .hosts(topology)) {
            var ends: [(Subject, Node)] = []
            if flow.destination == role { ends.append((Subject(role, .ingress), flow.source)) }
            if flow.source == role {
                ends.append((Subject(role, .egress), flow.destination))
                if role.role == .worker {
                    ends.append((Subject(role, .containerEgress), flow.destination))
                }
            }
            for (subject, far) in ends {
                let peer = EndpointSet(cidrs: topology.addresses(of: far))
                for port in flow.ports {
                    requirements.append(
                        Requirement(flow: flow, port: port, subject: subject, peer: peer))
                }
            }
        }
        let types = IntervalSet(HostFirewall.icmpv6Types.map { UInt16($0)...UInt16($0) })
        let extras = [Subject.Direction.ingress, .egress].map {
            Permission(
                subject: Subject(role, $0), peer: .anyIPv6, protocols: .icmpv6, ports: types)
        }
        return TargetModel(requirements: requirements, extras: extras, knownNames: [])
    }

    /// The model of the security groups (AWS, Terraform): one group per component, the load
    /// balancers, and the database unless existing groups stand for it. A flow is required on
    /// each grouped end; the far end is its group when both ends are groups of the VPC (an
    /// external pool's is not), else its existing groups and prefix lists, else its CIDRs,
    /// where a whole family also holds every named endpoint.
    static func securityGroups(_ topology: Topology) -> TargetModel {
        let aws = topology.aws
        let postgresGroups = aws.securityGroups[.postgres] ?? []
        let grouped = Set(
            topology.components + [.lb] + (topology.vcsGateway == nil ? [] : [.vcsGatewayLB])
                + (postgresGroups.isEmpty ? [.postgres] : []))
        let scope = FlowScope(
            filtersDNS: false, componentsPullImages: true, workersReachBrokerDirectly: false,
            enforcedNodes: grouped)
        func isExternalPool(_ node: Node) -> Bool {
            topology.workerPool(of: node)?.placement == .external
        }
        func far(_ node: Node, from subject: Node) -> EndpointSet {
            if grouped.contains(node) && !isExternalPool(node) && !isExternalPool(subject) {
                return EndpointSet(names: [
                    SecurityGroupPermissions.groupEndpoint(aws.groupName(node))
                ])
            }
            let node = topology.addressHolder(of: node)
            let names =
                (aws.securityGroups[node] ?? []).map(SecurityGroupPermissions.groupEndpoint)
                + (aws.prefixLists[node] ?? []).map {
                    SecurityGroupPermissions.prefixListEndpoint($0.id)
                }
            if !names.isEmpty { return EndpointSet(names: names) }
            return topology.addresses(of: node).reduce(EndpointSet.nothing) {
                $0.union(SecurityGroupPermissions.endpoints(of: $1))
            }
        }
        var requirements: [Requirement] = []
        for flow in topology.flows(in: scope) {
            for (subject, node) in ends(of: flow, enforcedAt: grouped) {
                for port in flow.ports {
                    requirements.append(
                        Requirement(
                            flow: flow, port: port, subject: subject,
                            peer: far(node, from: subject.node)))
                }
            }
        }
        let names = grouped.map { SecurityGroupPermissions.groupEndpoint(aws.groupName($0)) }
        return TargetModel(requirements: requirements, extras: [], knownNames: names.sorted())
    }

    /// The model of the NetworkPolicies: the in-cluster components' ingress and egress; far
    /// ends are pod classes for components, for in-cluster pools and for external nodes with
    /// pod selectors (with their CIDRs), the cluster DNS for DNS without addresses, the ingress
    /// namespace's pods (else the load balancer's CIDRs, else anywhere) for what load balancers
    /// forward, the clients' and addressed external pools' CIDRs for the MQTT load balancer
    /// (which passes its sources' addresses through), and CIDRs for the rest.
    static func kubernetes(_ topology: Topology) -> TargetModel {
        let universe = PodUniverse(topology)
        let placement = topology.kubernetes
        let enforced = Set(
            topology.components.filter { topology.workerPool(of: $0)?.placement != .external })
        let scope = FlowScope(
            filtersDNS: true, componentsPullImages: false, workersReachBrokerDirectly: true,
            enforcedNodes: enforced)
        func pods(_ namespace: String, _ labels: [String: String]) -> EndpointSet {
            EndpointSet(
                names: universe.classes.filter {
                    $0.namespace == namespace && (labels.isEmpty || $0.labels.identity == labels)
                }.map(\.name))
        }
        func addresses(_ nodes: [Node]) -> EndpointSet {
            EndpointSet(cidrs: nodes.flatMap(topology.addresses(of:)))
        }
        func far(_ node: Node, of flow: Flow) -> EndpointSet {
            if node.kind == .component, let pods = universe.pods(of: node) {
                return EndpointSet(names: [pods.name])
            }
            if node == .lb && flow.condition == .builtInBroker {
                let pools = topology.workerPools.filter {
                    $0.placement == .external && topology.hasAddresses($0.node)
                }
                return addresses([.clients] + pools.map(\.node))
            }
            if node.kind == .edge && flow.source == node {
                if let namespace = placement.ingressNamespace { return pods(namespace, [:]) }
                return topology.hasAddresses(node) ? addresses([node]) : .everything
            }
            if let selector = placement.podSelectors[node] {
                let cidrs = EndpointSet(cidrs: topology.addresses[node] ?? [])
                return pods(selector.namespace, selector.labels).union(cidrs)
            }
            if node.role == .dns && !topology.hasAddresses(node) {
                return EndpointSet(
                    names: universe.classes.filter { $0.name == "kube-dns pods" }.map(\.name))
            }
            return addresses([node])
        }
        var requirements: [Requirement] = []
        for flow in topology.flows(in: scope) {
            for (subject, node) in ends(of: flow, enforcedAt: enforced) {
                for port in flow.ports {
                    requirements.append(
                        Requirement(
                            flow: flow, port: port, subject: subject, peer: far(node, of: flow)))
                }
            }
        }
        return TargetModel(
            requirements: requirements, extras: [], knownNames: universe.classes.map(\.name))
    }
}
