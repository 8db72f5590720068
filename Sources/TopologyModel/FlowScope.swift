/// What a target enforces, which decides the flows it implements.
///
/// `flows.md` places some flows only on some targets: DNS is filtered by Kubernetes and host
/// firewalls but not by AWS security groups; components pull their own images on hosts and ECS
/// but not as Kubernetes pods; in-cluster Kubernetes workers reach the broker through the
/// `spacelift-mqtt` service rather than the load balancer. A target also implements only the
/// flows with at least one end among the nodes whose rules it writes.
///
/// For example: ``FlowScope/everything`` is what `topogen flows` shows without `--target`.
public struct FlowScope: Hashable, Sendable {
    /// Whether the target filters DNS, so that components need DNS flows.
    public var filtersDNS: Bool
    /// Whether components pull their own images through the target's rules.
    public var componentsPullImages: Bool
    /// Whether in-network workers reach the built-in broker on the server directly, not
    /// through the load balancer.
    public var workersReachBrokerDirectly: Bool
    /// Whether the target firewalls the components' hosts themselves, so that administrators'
    /// SSH access (`--allow-ssh-from`) needs flows.
    public var firewallsHosts: Bool
    /// The nodes whose rules the target writes; `nil` for every node.
    public var enforcedNodes: Set<Node>?

    /// Creates a scope.
    public init(
        filtersDNS: Bool, componentsPullImages: Bool, workersReachBrokerDirectly: Bool,
        firewallsHosts: Bool = false, enforcedNodes: Set<Node>?
    ) {
        self.filtersDNS = filtersDNS
        self.componentsPullImages = componentsPullImages
        self.workersReachBrokerDirectly = workersReachBrokerDirectly
        self.firewallsHosts = firewallsHosts
        self.enforcedNodes = enforcedNodes
    }

    /// Every flow of the model, whichever target implements it.
    public static let everything = FlowScope(
        filtersDNS: true, componentsPullImages: true, workersReachBrokerDirectly: false,
        firewallsHosts: true, enforcedNodes: nil)

    /// Host firewalls (iptables, nftables): one ruleset per component host, which filters DNS,
    /// pulls its own images, and reaches the broker through the load balancer.
    public static func hosts(_ topology: Topology) -> FlowScope {
        FlowScope(
            filtersDNS: true, componentsPullImages: true, workersReachBrokerDirectly: false,
            firewallsHosts: true, enforcedNodes: Set(topology.components))
    }
}
