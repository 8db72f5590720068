extension Topology {
    /// The flows this installation allows within a target's scope, in the order of `flows.md`,
    /// then the VCS gateway's, then the user's extra egress.
    ///
    /// Nothing else is allowed: no component accepts connections except the server (and the
    /// VCS gateway); workers never reach postgres; the scheduler reaches only postgres (and
    /// SQS, and DNS where filtered); with IoT Core nothing listens on the MQTT port. With an
    /// egress proxy, a component's flow to an external node on exactly `443/tcp` that is not a
    /// private endpoint goes to the proxy instead.
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
        func direct(_ pool: WorkerPool) -> Bool {
            scope.workersReachBrokerDirectly && pool.placement == .inNetwork
        }

        add(
            "clients-lb-https", .clients, .lb, https, .always,
            "Server ingress HTTP (reached through the public endpoint)")
        add(
            "lb-server-http", .lb, .server, [Port(.tcp, Topology.httpPort)], .always,
            "Server ingress HTTP 1983")
        if usesBuiltInBroker && workerPools.contains(where: { $0.placement == .external }) {
            add(
                "clients-lb-mqtt", .clients, .lb, mqtt, .builtInBrokerExternalWorkers,
                "Server ingress MQTT")
        }
        if usesBuiltInBroker && workerPools.contains(where: { !direct($0) }) {
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
        for pool in workerPools {
            let worker = pool.node
            let name = pool.name.map { "Workers of pool '\($0)'" } ?? "Workers"
            add(
                "\(worker)-server", worker, .lb, https, .always,
                "\(name) egress Spacelift Server 443")
            if usesIoTCore {
                add(
                    "\(worker)-mqtt", worker, .iotCore, https, .always, "\(name) egress MQTT Broker"
                )
            } else {
                add(
                    "\(worker)-mqtt", worker, direct(pool) ? .server : .lb, mqtt, .always,
                    "\(name) egress MQTT Broker")
            }
            add(
                "\(worker)-object-storage", worker, .objectStorage, https, .always,
                "\(name) egress Object Storage")
            add("\(worker)-vcs", worker, .vcs, https, .always, "\(name) egress VCS")
            add(
                "\(worker)-container-registry", worker, .containerRegistry, https, .always,
                "\(name) egress Container registries")
            add(
                "\(worker)-infrastructure", worker, pool.infrastructure,
                pool.infrastructurePorts.map { Port(.tcp, $0) }, .always,
                "\(name) egress Infrastructure")
        }
        if let gateway = vcsGateway {
            add(
                "clients-vcs-gateway-lb", .clients, .vcsGatewayLB, https, .vcsGateway,
                "VCS agents reach the VCS gateway's load balancer (HTTPS)")
            add(
                "vcs-gateway-lb-grpc", .vcsGatewayLB, .vcsGateway, [Port(.tcp, gateway.grpcPort)],
                .vcsGateway, "(gRPC) The load balancer to the VCS gateway, for remote agents")
            for component in [Node.server, .drain] {
                let name = component == .server ? "server" : "drain"
                add(
                    "\(component)-vcs-gateway", component, .vcsGateway,
                    [Port(.tcp, gateway.httpPort)], .vcsGateway,
                    "(HTTP) The \(name) to the VCS gateway")
            }
            add(
                "vcs-gateway-postgres", .vcsGateway, .postgres, postgres, .vcsGateway,
                "VCS gateway egress Postgres")
        }
        if scope.componentsPullImages {
            for component in components where component.role != .worker {
                add(
                    "\(component)-image-pull", component, .containerRegistry, https, .imagePull,
                    "Container registries: the backend image")
            }
        }
        if scope.filtersDNS {
            for component in components {
                add(
                    "\(component)-dns", component, .dns, [Port(.udp, 53), Port(.tcp, 53)],
                    .dnsFiltered,
                    "Name resolution (ours: nothing resolves a name without it)")
            }
        }
        if scope.firewallsHosts && hasAddresses(.admin) {
            for component in components {
                add(
                    "admin-ssh-\(component)", .admin, component, [Port(.tcp, 22)], .sshAccess,
                    "Administrators' SSH (--allow-ssh-from)")
            }
        }
        for egress in extraEgress {
            for source in egress.sources {
                add(
                    "\(source)-\(egress.node)", source, egress.node, egress.ports, .extraEgress,
                    egress.reason)
            }
        }
        return flows.map(throughProxy).filter {
            guard let enforced = scope.enforcedNodes else { return true }
            return enforced.contains($0.source) || enforced.contains($0.destination)
        }
    }

    /// The flow as it runs with the egress proxy: to the proxy on its port when it goes from a
    /// component to an external HTTPS node that is not a private endpoint.
    private func throughProxy(_ flow: Flow) -> Flow {
        guard let proxy = egressProxy, flow.source.kind == .component,
            flow.destination.kind == .external, flow.ports == [Port(.tcp, 443)],
            !privateEndpoints.contains(flow.destination)
        else { return flow }
        return Flow(
            id: flow.id, source: flow.source, destination: .egressProxy,
            ports: [Port(.tcp, proxy.port)], condition: flow.condition,
            description: "\(flow.description), through the egress proxy")
    }
}
