extension TopologyFile {
    /// The starter file `topogen init` writes: the reference installation with every default
    /// spelled out, and the optional sections as commented examples to uncomment.
    ///
    /// It decodes to exactly ``TopologyModel/Topology/reference``; the format is
    /// `docs/topology-file.md`.
    public static let starter = """
        # A topogen topology file: one Spacelift installation, kept in version control.
        # Generate every target from it, for example:
        #   topogen --target k8s --topology topology.yaml
        #   topogen flows --topology topology.yaml
        # The format: docs/topology-file.md; the schema: schema/topology.schema.json.
        # Every value below is the default: this file is the reference installation.

        # Optional services (the flags --with-sqs, --with-iot-core, --with-kms).
        options:
          sqs: false          # the message queue is AWS SQS
          iotCore: false      # the MQTT broker is AWS IoT Core (needs sqs)
          kms: false          # encryption uses AWS KMS

        ports:
          postgres: 5432
          mqtt: 1984          # the built-in MQTT broker on the server

        kubernetes:
          namespace: spacelift            # the server, drain, scheduler and VCS gateway
          # ingressNamespace: ingress-nginx   # the only source of the load balancers' traffic

        aws:
          namePrefix: spacelift           # security groups are named <prefix>-<node>
          maxRules: 60                    # rules per group and direction
          # vpcId: vpc-0a1b2c3d

        # Where the installation's nodes are. A node without addresses is anywhere
        # (0.0.0.0/0 and ::/0). Nodes: server, drain, scheduler, lb, clients, postgres,
        # object-storage, vcs, container-registry, sqs, iot-core, kms, dns, admin.
        # Each takes cidrs (every target), securityGroups and prefixLists (AWS, Terraform,
        # external services only) and kubernetes: {namespace, labels} (pods of the cluster).
        nodes: {}
        #   postgres:
        #     cidrs: [10.0.8.0/22]
        #     securityGroups: [sg-0123456789abcdef0]
        #   admin:
        #     cidrs: [192.0.2.0/24]       # SSH to every host (host firewalls)

        # Worker pools. Without them there is one pool, 'worker', managing 'infrastructure',
        # in the cluster (namespace spacelift-workers), reaching infrastructure APIs on 443.
        # Pool NAME is the node worker-NAME managing infrastructure-NAME.
        # workerPools:
        #   - name: eu
        #     placement: in-cluster       # or external: reaches the public endpoint
        #     cidrs: [10.1.0.0/16]
        #     kubernetes: {namespace: spacelift-workers-eu}
        #     infrastructure:
        #       ports: [443, 6443]
        #       cidrs: [10.2.0.0/16]

        # The VCS gateway: its load balancer on 443, gRPC from it, HTTP from server and drain.
        # vcsGateway:
        #   grpcPort: 1984
        #   httpPort: 1985
        #   loadBalancer: {cidrs: [10.0.16.0/22]}

        # All outbound HTTPS through a proxy (except private endpoints).
        # egressProxy:
        #   port: 3128
        #   cidrs: [10.0.0.10/32]

        # Services reached through VPC endpoints: object-storage, vcs, container-registry,
        # sqs, iot-core, kms.
        # privateEndpoints:
        #   sqs: {securityGroups: [sg-0a1b2c3d4e5f60718]}
        #   object-storage: {prefixLists: ["pl-63a5400a:3"]}

        # Connections beyond Spacelift's own, each with the reason every target writes.
        # extraEgress:
        #   - name: otel-collector
        #     from: [server, drain, scheduler]
        #     ports: [4317]
        #     reason: "Telemetry: OpenTelemetry collector (OTLP gRPC)"
        #     cidrs: [10.0.20.5/32]

        """
}
