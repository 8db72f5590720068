public import TopologyModel

/// An installation as a picture, before it is written in any format: its nodes in groups (by
/// network or namespace) and its flows as edges labelled with transport and ports.
///
/// The graph shows every flow of the model (``FlowScope/everything``, what `topogen flows`
/// shows), whichever target implements it. Flows with the same source, destination and ports
/// are one edge, which names all their ids: with an egress proxy, `server-object-storage`,
/// `server-vcs` and `server-image-pull` are the one edge `server → egress-proxy tcp/3128`.
///
/// Groups, in this order, each only when it has a node that a flow touches:
/// - `public`: `clients`, `admin`, `lb` and `vcs-gateway-lb`, where users, agents and
///   administrators reach the installation;
/// - `backend`: `server`, `drain`, `scheduler` and `vcs-gateway`, labelled with the backend's
///   namespace when the topology is laid out for Kubernetes;
/// - one group per worker pool with its workers: its namespace (in the cluster, on Kubernetes),
///   `external network`, or `backend network`;
/// - one group per other namespace of pods that stand for external nodes (a Postgres running
///   in the cluster, an OpenTelemetry collector); pods of the backend's or a pool's namespace
///   join that group;
/// - `external services`: every other external node, including the pools' infrastructure, the
///   egress proxy and the user's extra egress destinations.
///
/// Each node is labelled with its name and the addresses the user gave it (CIDRs, security
/// groups, prefix lists, pod labels), and with `private endpoint` or `extra egress` where it is
/// one.
///
/// For example: the reference installation has the groups `public` (`clients`, `lb`),
/// `backend` (`server`, `drain`, `scheduler`), `workers` (`worker`) and `external services`,
/// and the edge `clients → lb` labelled `tcp/443`.
public struct TopologyGraph: Hashable, Sendable {
    /// A box of nodes that share a network or namespace.
    ///
    /// For example: `Group(id: "pool-eu", label: "worker pool eu (namespace spacelift-workers-eu)",
    /// nodes: [worker-eu])`.
    public struct Group: Hashable, Sendable {
        /// The stable id, unique in the graph: `public`, `backend`, `pool-NAME` (`pool` for the
        /// one pool of the command line), `namespace-NAME`, `external`.
        public let id: String
        /// The caption, for example `backend (namespace spacelift)`.
        public let label: String
        /// The nodes in the group, in artifact order.
        public let nodes: [GraphNode]
    }

    /// A node as the picture shows it: its name, then one line per address or remark.
    ///
    /// For example: `postgres` with the lines `["sg-0d1e2f3a4b5c6d7e8"]`.
    public struct GraphNode: Hashable, Sendable {
        /// The node.
        public let node: Node
        /// The lines under the name: CIDRs, security groups, prefix lists, pod labels,
        /// `private endpoint`, `extra egress`.
        public let details: [String]

        /// The name and the details, one per line.
        public var lines: [String] { [node.name] + details }
    }

    /// One arrow: the flows from one node to another on the same ports.
    ///
    /// For example: `server → dns` on `53/tcp` and `53/udp`, flow `server-dns`, labelled
    /// `tcp/53, udp/53`.
    public struct Edge: Hashable, Sendable {
        /// The node that opens the connections.
        public let source: Node
        /// The node that accepts them.
        public let destination: Node
        /// The destination ports, sorted.
        public let ports: [Port]
        /// The ids of the flows the edge stands for, in the order of the model.
        public let flowIDs: [String]

        /// The ports as the picture labels them, transport first: `tcp/443`,
        /// `tcp/53, udp/53`, `tcp/8000-8100`.
        public var label: String {
            ports.map { "\($0.transport.rawValue)/\($0.range)" }.joined(separator: ", ")
        }
    }

    /// The groups, in the order described on ``TopologyGraph``.
    public let groups: [Group]
    /// The edges, sorted by source, destination and ports.
    public let edges: [Edge]

    /// The picture of a topology's flows.
    public init(_ topology: Topology) {
        let flows = topology.flows(in: .everything)
        var merged: [EdgeKey: [String]] = [:]
        for flow in flows {
            merged[
                EdgeKey(source: flow.source, destination: flow.destination, ports: flow.ports),
                default: []
            ].append(flow.id)
        }
        edges = merged.keys.sorted().compactMap { key in
            merged[key].map {
                Edge(
                    source: key.source, destination: key.destination, ports: key.ports,
                    flowIDs: $0)
            }
        }
        let drawn = Set(flows.flatMap { [$0.source, $0.destination] })
        groups = Self.groups(of: topology, drawing: drawn)
    }

    /// Where an edge goes, the key that merges flows into it.
    private struct EdgeKey: Hashable, Comparable {
        let source: Node
        let destination: Node
        let ports: [Port]

        static func < (lhs: EdgeKey, rhs: EdgeKey) -> Bool {
            if lhs.source != rhs.source { return lhs.source < rhs.source }
            if lhs.destination != rhs.destination { return lhs.destination < rhs.destination }
            return lhs.ports.lexicographicallyPrecedes(rhs.ports)
        }
    }

    /// The groups of the nodes that flows touch, in picture order; empty groups left out.
    private static func groups(of topology: Topology, drawing drawn: Set<Node>) -> [Group] {
        let onKubernetes = isLaidOutForKubernetes(topology)
        let backendNamespace = topology.kubernetes.namespace
        var publicNodes: [Node] = []
        var backend: [Node] = []
        var pools: [[Node]] = topology.workerPools.map { _ in [] }
        var namespaces: [String: [Node]] = [:]
        var external: [Node] = []
        for node in drawn.sorted() {
            switch node.role {
            case .clients, .admin, .lb, .vcsGatewayLB:
                publicNodes.append(node)
            case .server, .drain, .scheduler, .vcsGateway:
                backend.append(node)
            case .worker:
                if let index = topology.workerPools.firstIndex(where: { $0.node == node }) {
                    pools[index].append(node)
                } else {
                    external.append(node)
                }
            case .postgres, .objectStorage, .vcs, .containerRegistry, .infrastructure, .sqs,
                .iotCore, .kms, .dns, .egressProxy, .extra:
                guard let selector = topology.kubernetes.podSelectors[node] else {
                    external.append(node)
                    continue
                }
                if selector.namespace == backendNamespace {
                    backend.append(node)
                } else if let index = topology.workerPools.firstIndex(where: {
                    $0.placement == .inNetwork && $0.namespace == selector.namespace
                }) {
                    pools[index].append(node)
                } else {
                    namespaces[selector.namespace, default: []].append(node)
                }
            }
        }
        var groups: [Group] = []
        func add(_ id: String, _ label: String, _ nodes: [Node]) {
            guard !nodes.isEmpty else { return }
            groups.append(
                Group(
                    id: id, label: label,
                    nodes: nodes.map { GraphNode(node: $0, details: details(of: $0, topology)) }))
        }
        add("public", "public", publicNodes)
        add(
            "backend", onKubernetes ? "backend (namespace \(backendNamespace))" : "backend",
            backend)
        for (pool, nodes) in zip(topology.workerPools, pools) {
            let whereItRuns =
                switch pool.placement {
                case .external: "external network"
                case .inNetwork: onKubernetes ? "namespace \(pool.namespace)" : "backend network"
                }
            let id = pool.name.map { "pool-\($0)" } ?? "pool"
            let name = pool.name.map { "worker pool \($0)" } ?? "workers"
            add(id, "\(name) (\(whereItRuns))", nodes)
        }
        for (namespace, nodes) in namespaces.sorted(by: { $0.key < $1.key }) {
            add("namespace-\(namespace)", "namespace \(namespace)", nodes)
        }
        add("external", "external services", external)
        return groups
    }

    /// Whether the topology says something about Kubernetes that only a cluster needs, so that
    /// the picture names namespaces: a backend namespace other than the default, an ingress
    /// namespace, pods standing for external nodes, or a pool's pod labels. A pool's namespace
    /// alone says nothing: every pool has one, by default `spacelift-workers-NAME`.
    private static func isLaidOutForKubernetes(_ topology: Topology) -> Bool {
        let kubernetes = topology.kubernetes
        return kubernetes.namespace != KubernetesPlacement.defaultNamespace
            || kubernetes.ingressNamespace != nil || !kubernetes.podSelectors.isEmpty
            || topology.workerPools.contains { !$0.podLabels.isEmpty }
    }

    /// The lines under a node's name: the addresses the user gave it, then what it is.
    private static func details(of node: Node, _ topology: Topology) -> [String] {
        var lines: [String] = []
        if let cidrs = topology.addresses[node] { lines += cidrs.map(\.description) }
        lines += topology.aws.securityGroups[node] ?? []
        lines += (topology.aws.prefixLists[node] ?? []).map(\.id)
        if let selector = topology.kubernetes.podSelectors[node] {
            lines.append(podLine(selector.labels))
        } else if let pool = topology.workerPool(of: node), !pool.podLabels.isEmpty {
            lines.append(podLine(pool.podLabels))
        }
        if topology.privateEndpoints.contains(node) { lines.append("private endpoint") }
        if node.role == .extra { lines.append("extra egress") }
        return lines
    }

    /// `pods app=postgres`, or `every pod` for empty labels.
    private static func podLine(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "every pod" }
        return "pods "
            + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: ", ")
    }
}
