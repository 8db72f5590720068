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
            add("lb-server-mqtt", .lb, .server, mqtt, .builtInBroker, "Server ingress MQTT")
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
