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
    /// The nodes whose rules the target writes.
    public var enforcedNodes: Set<Node>

    /// Creates a scope.
    public init(
        filtersDNS: Bool, componentsPullImages: Bool, workersReachBrokerDirectly: Bool,
        firewallsHosts: Bool = false, enforcedNodes: Set<Node>
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
        firewallsHosts: true, enforcedNodes: Set(Node.allCases))

    /// Host firewalls (iptables, nftables): one ruleset per component host, which filters DNS,
    /// pulls its own images, and reaches the broker through the load balancer.
    public static let hosts = FlowScope(
        filtersDNS: true, componentsPullImages: true, workersReachBrokerDirectly: false,
        firewallsHosts: true, enforcedNodes: Set(Node.components))
}

extension Topology {
    /// The flows this installation allows within a target's scope, in the order of `flows.md`.
    ///
    /// Nothing else is allowed: no component accepts connections except the server; workers
    /// never reach postgres; the scheduler reaches only postgres (and SQS, and DNS where
    /// filtered); with IoT Core nothing listens on the MQTT port.
    public func flows(in scope: FlowScope = .everything) -> [Flow] {
        var flows: [Flow] = []
        func add(
            _ id: String, _ source: Node, _ destination: Node, _ ports: [Port],
            _ condition: Condition, _ description: String
        ) {
            flows.append(
                Flow(
                    id: id, source: source, destination: destination, ports: ports,
                    condition: condition, description: description))
        }
        let https = [Port(.tcp, 443)]
        let postgres = [Port(.tcp, postgresPort)]
        let mqtt = [Port(.tcp, mqttPort)]
        let workersDirect = scope.workersReachBrokerDirectly && workers == .inNetwork

        add(
            "clients-lb-https", .clients, .lb, https, .always,
            "Server ingress HTTP (reached through the public endpoint)")
        add(
            "lb-server-http", .lb, .server, [Port(.tcp, Topology.httpPort)], .always,
            "Server ingress HTTP 1983")
        if usesBuiltInBroker && workers == .external {
            add(
                "clients-lb-mqtt", .clients, .lb, mqtt, .builtInBrokerExternalWorkers,
                "Server ingress MQTT")
        }
        if usesBuiltInBroker && !workersDirect {
            add("lb-server-mqtt", .lb, .server, mqtt, .builtInBroker, "Server ingress MQTT 1984")
        }
        for component in [Node.server, .drain] {
            let name = component == .server ? "Server" : "Drain"
            add(
                "\(component)-postgres", component, .postgres, postgres, .always,
                "\(name) egress Postgres")
            add(
                "\(component)-object-storage", component, .objectStorage, https, .always,
                "\(name) egress Object Storage")
            add("\(component)-vcs", component, .vcs, https, .always, "\(name) egress VCS")
            if usesSQS {
                add(
                    "\(component)-sqs", component, .sqs, https, .sqs,
                    "\(name) egress Message Queue")
            }
            if usesIoTCore {
                add(
                    "\(component)-iot-core", component, .iotCore, https, .iotCore,
                    "\(name) egress MQTT Broker")
            }
            if usesKMS {
                add("\(component)-kms", component, .kms, https, .kms, "\(name) egress KMS")
            }
        }
        add(
            "scheduler-postgres", .scheduler, .postgres, postgres, .always,
            "Scheduler egress Postgres")
        if usesSQS {
            add("scheduler-sqs", .scheduler, .sqs, https, .sqs, "Scheduler egress Message Queue")
        }
        add("worker-server", .worker, .lb, https, .always, "Workers egress Spacelift Server 443")
        if usesIoTCore {
            add("worker-mqtt", .worker, .iotCore, https, .always, "Workers egress MQTT Broker")
        } else {
            add(
                "worker-mqtt", .worker, workersDirect ? .server : .lb, mqtt, .always,
                "Workers egress MQTT Broker")
        }
        add(
            "worker-object-storage", .worker, .objectStorage, https, .always,
            "Workers egress Object Storage")
        add("worker-vcs", .worker, .vcs, https, .always, "Workers egress VCS")
        add(
            "worker-container-registry", .worker, .containerRegistry, https, .always,
            "Workers egress Container registries")
        add(
            "worker-infrastructure", .worker, .infrastructure,
            infrastructurePorts.map { Port(.tcp, $0) }, .always, "Workers egress Infrastructure")
        if scope.componentsPullImages {
            for component in [Node.server, .drain, .scheduler] {
                add(
                    "\(component)-image-pull", component, .containerRegistry, https, .imagePull,
                    "Container registries: the backend image")
            }
        }
        if scope.filtersDNS {
            for component in Node.components {
                add(
                    "\(component)-dns", component, .dns, [Port(.udp, 53), Port(.tcp, 53)],
                    .dnsFiltered,
                    "Name resolution (ours: nothing resolves a name without it)")
            }
        }
        if scope.firewallsHosts && hasAddresses(.admin) {
            for component in Node.components {
                add(
                    "admin-ssh-\(component)", .admin, component, [Port(.tcp, 22)], .sshAccess,
                    "Administrators' SSH (--allow-ssh-from)")
            }
        }
        return flows.filter {
            scope.enforcedNodes.contains($0.source) || scope.enforcedNodes.contains($0.destination)
        }
    }
}
