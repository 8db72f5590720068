/// Validates a ``TopologySpec``, collecting diagnostics instead of stopping at the first.
///
/// Values written in a topology file carry their field path and line, so every message names
/// them: `invalid CIDR '10.1.0.1/16' for 'workerPools[1].cidrs[0]': host bits are set`.
struct Resolver {
    var diagnostics: [Diagnostic] = []

    mutating func error(_ message: String, hint: String? = nil, line: Int? = nil) {
        diagnostics.append(Diagnostic(.error, message, hint: hint, line: line))
    }

    mutating func warning(_ message: String, hint: String? = nil, line: Int? = nil) {
        diagnostics.append(Diagnostic(.warning, message, hint: hint, line: line))
    }

    /// The longest pool name: `spacelift-workers-NAME` and `spacelift-worker-NAME` must stay
    /// Kubernetes names (63 characters) with room for a prefix.
    static let maxPoolNameLength = 32
    /// The longest extra egress name.
    static let maxExtraNameLength = 40
    /// The longest reason of an extra egress: an AWS rule description holds 255 characters.
    static let maxReasonLength = 200

    mutating func resolve(_ spec: TopologySpec) -> Topology? {
        let sqs = spec.withSQS?.value ?? false
        let iotCore = spec.withIoTCore?.value ?? false
        let kms = spec.withKMS?.value ?? false
        if iotCore && !sqs, let written = spec.withIoTCore {
            error(
                "'\(written.origin)' requires '\(spec.withSQS?.origin ?? "--with-sqs")'",
                hint:
                    "AWS IoT Core as the MQTT broker needs the SQS message queues; add '--with-sqs'",
                line: written.line)
        }
        let postgresPort = singlePort(spec.postgresPort) ?? Topology.defaultPostgresPort
        let mqttPort = singlePort(spec.mqttPort) ?? Topology.defaultMQTTPort
        if let written = spec.mqttPort, mqttPort == Topology.httpPort, !iotCore {
            error(
                "invalid value '\(written.value)' for '\(written.origin)': \(Topology.httpPort) is the server's HTTP port",
                hint:
                    "the built-in broker listens on \(Topology.defaultMQTTPort) unless told otherwise",
                line: written.line)
        }
        if let written = spec.mqttPort, mqttPort == 443, !iotCore {
            warning(
                "'\(written.origin) 443' is the public endpoint's HTTPS port",
                hint:
                    "the MQTT port and HTTPS then share 443; that works only behind separate load balancers",
                line: written.line)
        }
        if let written = spec.mqttPort, iotCore {
            warning(
                "'\(written.origin)' has no effect with '\(spec.withIoTCore?.origin ?? "--with-iot-core")'",
                hint: "workers reach AWS IoT Core on 443", line: written.line)
        }
        let kubernetes = kubernetesPlacement(spec)
        let pools = workerPools(spec, backend: kubernetes)
        let gateway = vcsGateway(spec.vcsGateway)
        let proxy = egressProxy(spec.egressProxy)
        let components = Topology.components(workerPools: pools, hasGateway: gateway != nil)
        let extraEgress = extraEgress(spec.extraEgress, pools: pools, components: components)

        let nodes = Topology.nodes(workerPools: pools, extraEgress: extraEgress)
        var places = NodePlaces(nodes: nodes)
        for entry in spec.nodes {
            place(entry.addresses, named: entry.node, in: &places)
        }
        var privateEndpoints: Set<Node> = []
        for entry in spec.privateEndpoints {
            guard let node = place(entry.addresses, named: entry.node, in: &places) else {
                continue
            }
            if Self.privateEndpointRoles.contains(node.role) {
                privateEndpoints.insert(node)
            } else {
                error(
                    "'\(entry.node.origin)': '\(node)' cannot be a private endpoint",
                    hint:
                        "private endpoints are \(Self.privateEndpointRoles.map { Node($0).name }.joined(separator: ", "))",
                    line: entry.node.line)
            }
        }
        for (pool, written) in zip(pools, spec.workerPools) {
            places.add(written.addresses, for: pool.node, resolver: &self)
            places.add(written.infrastructure, for: pool.infrastructure, resolver: &self)
        }
        if let written = spec.vcsGateway {
            places.add(written.addresses, for: .vcsGateway, resolver: &self)
            places.add(written.loadBalancer, for: .vcsGatewayLB, resolver: &self)
        }
        if let written = spec.egressProxy {
            places.add(written.addresses, for: .egressProxy, resolver: &self)
        }
        for (egress, written) in zip(extraEgress, spec.extraEgress) {
            places.add(written.addresses, for: egress.node, resolver: &self)
        }
        let fileAddresses = resolveFileAddresses(places)
        let flagAddresses = resolveAddresses(spec.addresses, nodes: nodes)
        let addresses = fileAddresses.merging(flagAddresses) { _, flags in flags }
        let aws = awsPlacement(spec, places: places, nodes: nodes)
        var selectors: [Node: PodSelector] = [:]
        let workerNamespaces = Set(
            pools.filter { $0.placement == .inNetwork }.map(\.namespace))
        for (node, selector) in places.selectors.sorted(by: { $0.key < $1.key })
        where node.role != .worker {
            // A policy of topogen's in that namespace would isolate the node's pods.
            if selector.namespace == kubernetes.namespace
                || workerNamespaces.contains(selector.namespace),
                let written = places.namespaces[node]
            {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': '\(node)' cannot run in a namespace of Spacelift's",
                    hint:
                        "topogen's policies there would select its pods; give it a namespace of its own",
                    line: written.line)
            }
            selectors[node] = selector
        }
        return Topology(
            usesSQS: sqs, usesIoTCore: iotCore, usesKMS: kms, postgresPort: postgresPort,
            mqttPort: mqttPort, workerPools: pools, vcsGateway: gateway, egressProxy: proxy,
            extraEgress: extraEgress, privateEndpoints: privateEndpoints,
            kubernetes: KubernetesPlacement(
                namespace: kubernetes.namespace, ingressNamespace: kubernetes.ingressNamespace,
                podSelectors: selectors),
            aws: aws, addresses: addresses)
    }

    /// The roles a private endpoint may have: external HTTPS services.
    static let privateEndpointRoles: [Node.Role] = [
        .objectStorage, .vcs, .containerRegistry, .sqs, .iotCore, .kms,
    ]

    // MARK: Ports

    private func portMessage(_ error: PortError, _ written: Written<String>) -> String {
        "invalid value '\(written.value)' for '\(written.origin)': \(error.reason)"
    }

    mutating func singlePort(_ written: Written<String>?) -> UInt16? {
        guard let written else { return nil }
        do {
            let range = try PortRange(parsing: written.value)
            guard range.isSinglePort else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': expected one port, not a range",
                    line: written.line)
                return nil
            }
            return range.lower
        } catch {
            self.error(portMessage(error, written), line: written.line)
            return nil
        }
    }

    private mutating func portRanges(_ written: [Written<String>]) -> [PortRange] {
        var ranges: Set<PortRange> = []
        for entry in written {
            do {
                ranges.insert(try PortRange(parsing: entry.value))
            } catch {
                self.error(portMessage(error, entry), line: entry.line)
            }
        }
        return ranges.sorted()
    }

    /// `N`, `N-M`, `N/tcp` or `N-M/udp`: ports of one transport, TCP unless said.
    private mutating func ports(_ written: Written<String>) -> Port? {
        var text = Substring(written.value)
        var transport = Transport.tcp
        if let slash = text.firstIndex(of: "/") {
            let name = text[text.index(after: slash)...]
            guard let named = Transport(rawValue: String(name)) else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': unknown transport '\(name)'",
                    hint: "write N, N-M, N/tcp or N/udp", line: written.line)
                return nil
            }
            transport = named
            text = text[..<slash]
        }
        do {
            return Port(transport, try PortRange(parsing: String(text)))
        } catch {
            self.error(portMessage(error, written), line: written.line)
            return nil
        }
    }

    // MARK: Worker pools

    private mutating func workerPlacement(_ written: Written<String>?) -> WorkerPlacement {
        guard let written else { return .inNetwork }
        if let placement = WorkerPlacement(rawValue: written.value) { return placement }
        let names = WorkerPlacement.allCases.map(\.rawValue)
        error(
            "invalid value '\(written.value)' for '\(written.origin)'",
            hint: closestMatch(to: written.value, in: names).map { "did you mean '\($0)'?" }
                ?? "expected one of: \(names.joined(separator: ", "))", line: written.line)
        return .inNetwork
    }

    /// The pools: the command line's one pool, or the file's, with the pool flags applied to
    /// the file's only pool.
    private mutating func workerPools(_ spec: TopologySpec, backend: KubernetesPlacement)
        -> [WorkerPool]
    {
        guard !spec.workerPools.isEmpty else {
            let workerNamespace =
                namespaceName(spec.workerNamespace) ?? WorkerPool.defaultNamespace
            checkWorkerNamespace(
                workerNamespace, origin: spec.workerNamespace?.origin ?? spec.namespace?.origin,
                line: spec.workerNamespace?.line, backend: backend)
            let ports = portRanges(spec.infrastructurePorts)
            return [
                WorkerPool(
                    placement: workerPlacement(spec.workers),
                    infrastructurePorts: ports.isEmpty
                        ? Topology.defaultInfrastructurePorts : ports,
                    namespace: workerNamespace)
            ]
        }
        let flags =
            [spec.workers?.origin, spec.workerNamespace?.origin]
            + spec.infrastructurePorts.prefix(1).map(\.origin)
        let poolFlags = flags.compactMap { $0 }.filter { $0.hasPrefix("--") }
        if spec.workerPools.count > 1, let flag = poolFlags.first {
            error(
                "'\(flag)' is ambiguous: the topology file has \(spec.workerPools.count) worker pools",
                hint: "set it on the pool in the file, under 'workerPools'")
        }
        let single = spec.workerPools.count == 1
        var pools: [WorkerPool] = []
        var names: Set<String> = []
        var namespaces: [String: (pool: String, labels: [String: String])] = [:]
        for written in spec.workerPools {
            let name = written.name
            if !Self.isLabel(name.value, maxLength: Self.maxPoolNameLength) {
                error(
                    "invalid value '\(name.value)' for '\(name.origin)': not a worker pool name",
                    hint:
                        "a pool name is at most \(Self.maxPoolNameLength) lower-case letters, digits and '-', starting with a letter and ending with a letter or digit",
                    line: name.line)
            } else if !names.insert(name.value).inserted {
                error(
                    "duplicate worker pool '\(name.value)' at '\(name.origin)'",
                    hint: "every pool needs a name of its own", line: name.line)
                continue
            }
            let placement = workerPlacement(
                single && spec.workers != nil ? spec.workers : written.placement)
            var portsWritten = written.infrastructurePorts
            if single && !spec.infrastructurePorts.isEmpty {
                portsWritten = spec.infrastructurePorts
            }
            let ports = portRanges(portsWritten)
            let selector = written.addresses.kubernetes
            let namespaceWritten =
                single && spec.workerNamespace != nil ? spec.workerNamespace : selector?.namespace
            let namespace =
                namespaceName(namespaceWritten) ?? "\(WorkerPool.defaultNamespace)-\(name.value)"
            let labels = self.labels(selector?.labels ?? [])
            if placement == .inNetwork {
                checkWorkerNamespace(
                    namespace, origin: namespaceWritten?.origin ?? "\(written.addresses.origin)",
                    line: namespaceWritten?.line ?? written.addresses.line, backend: backend)
                if let other = namespaces[namespace], !Self.conflict(other.labels, labels) {
                    error(
                        "worker pools '\(other.pool)' and '\(name.value)' share namespace '\(namespace)' without labels that tell their pods apart",
                        hint:
                            "give each pool a namespace of its own, or a label both set to different values",
                        line: namespaceWritten?.line ?? written.addresses.line)
                }
                namespaces[namespace] = (name.value, labels)
            } else if let selector {
                warning(
                    "'\(written.addresses.origin).kubernetes' has no effect on an external pool",
                    hint: "external workers are not pods of the cluster",
                    line: selector.namespace?.line ?? written.addresses.line)
            }
            pools.append(
                WorkerPool(
                    name: name.value, placement: placement,
                    infrastructurePorts: ports.isEmpty
                        ? Topology.defaultInfrastructurePorts : ports,
                    namespace: namespace, podLabels: labels))
        }
        return pools
    }

    /// Whether no pod can carry both label sets: some key is in both with different values.
    /// Pools sharing a namespace need this, or one pool's policy would select the other's pods.
    static func conflict(_ left: [String: String], _ right: [String: String]) -> Bool {
        left.contains { key, value in right[key].map { $0 != value } ?? false }
    }

    // MARK: VCS gateway, egress proxy, extra egress

    private mutating func vcsGateway(_ spec: VCSGatewaySpec?) -> VCSGateway? {
        guard let spec else { return nil }
        let grpc = singlePort(spec.grpcPort) ?? VCSGateway.defaultGRPCPort
        let http = singlePort(spec.httpPort) ?? VCSGateway.defaultHTTPPort
        if grpc == http, let written = spec.httpPort ?? spec.grpcPort {
            error(
                "invalid value '\(written.value)' for '\(written.origin)': the gateway's gRPC and HTTP ports must differ",
                line: written.line)
        }
        return VCSGateway(grpcPort: grpc, httpPort: http)
    }

    private mutating func egressProxy(_ spec: EgressProxySpec?) -> EgressProxy? {
        guard let spec else { return nil }
        guard let written = spec.port else {
            error(
                "'\(spec.addresses.origin)' names no port", hint: "add 'port', for example 3128",
                line: spec.addresses.line)
            return nil
        }
        return singlePort(written).map(EgressProxy.init(port:))
    }

    private mutating func extraEgress(
        _ specs: [ExtraEgressSpec], pools: [WorkerPool], components: [Node]
    ) -> [ExtraEgress] {
        var taken = Set(Node.allCases.map(\.name))
        for pool in pools {
            taken.insert(pool.node.name)
            taken.insert(pool.infrastructure.name)
        }
        var result: [ExtraEgress] = []
        for spec in specs {
            let name = spec.name
            var valid = true
            if !Self.isLabel(name.value, maxLength: Self.maxExtraNameLength) {
                error(
                    "invalid value '\(name.value)' for '\(name.origin)': not a node name",
                    hint:
                        "a name is at most \(Self.maxExtraNameLength) lower-case letters, digits and '-', starting with a letter and ending with a letter or digit",
                    line: name.line)
                valid = false
            } else if !taken.insert(name.value).inserted {
                error(
                    "invalid value '\(name.value)' for '\(name.origin)': '\(name.value)' already names a node",
                    hint: "give the destination a name of its own", line: name.line)
                valid = false
            }
            var sources: [Node] = []
            if spec.sources.isEmpty {
                error(
                    "'\(spec.addresses.origin)' names no source",
                    hint: "add 'from' with the components that connect, for example [server]",
                    line: spec.addresses.line)
            }
            for written in spec.sources {
                guard let node = components.first(where: { $0.name == written.value }) else {
                    let names = components.map(\.name)
                    error(
                        "invalid value '\(written.value)' for '\(written.origin)': not a component",
                        hint: closestMatch(to: written.value, in: names).map {
                            "did you mean '\($0)'?"
                        } ?? "components are: \(names.joined(separator: ", "))",
                        line: written.line)
                    continue
                }
                if !sources.contains(node) { sources.append(node) }
            }
            if spec.ports.isEmpty {
                error(
                    "'\(spec.addresses.origin)' names no port",
                    hint: "add 'ports', for example [4317]",
                    line: spec.addresses.line)
            }
            let ports = spec.ports.compactMap { self.ports($0) }
            let reason = spec.reason?.value ?? ""
            if let written = spec.reason,
                reason.allSatisfy(\.isWhitespace) || reason.first == " " || reason.last == " "
                    || reason.count > Self.maxReasonLength
                    || reason.unicodeScalars.contains(where: {
                        $0.properties.generalCategory == .control
                    })
            {
                error(
                    "invalid value for '\(written.origin)': a reason is one line of 1 to \(Self.maxReasonLength) characters, without spaces at its ends",
                    line: written.line)
            } else if spec.reason == nil {
                error(
                    "'\(spec.addresses.origin)' gives no reason",
                    hint: "add 'reason': every target writes it beside the rule",
                    line: spec.addresses.line)
            }
            guard valid else { continue }
            result.append(
                ExtraEgress(
                    node: Node(.extra, name: name.value), sources: sources.sorted(), ports: ports,
                    reason: reason))
        }
        return result
    }

    // MARK: Names

    /// Whether `text` is a DNS label of at most `maxLength` characters that starts with a
    /// letter: lower-case letters, digits and `-`.
    static func isLabel(_ text: String, maxLength: Int) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maxLength,
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
        }
    }

    /// Namespaces of the cluster itself, which topogen must never default-deny.
    static let systemNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease"]

    /// A Kubernetes namespace name: an RFC 1123 label.
    mutating func namespaceName(_ written: Written<String>?) -> String? {
        guard let written else { return nil }
        let name = written.value
        let allowed = name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.utf8.count <= 63, allowed, name.first != "-", name.last != "-"
        else {
            error(
                "invalid value '\(name)' for '\(written.origin)': not a Kubernetes namespace name",
                hint:
                    "a namespace name is at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
                line: written.line)
            return nil
        }
        return name
    }

    /// Label keys and values as Kubernetes allows them: a key is an optional DNS subdomain
    /// prefix and `/`, then a name of at most 63 alphanumerics, `-`, `_` and `.`, starting
    /// and ending with an alphanumeric; a value is such a name or empty.
    mutating func labels(_ written: [LabelSpec]) -> [String: String] {
        var labels: [String: String] = [:]
        for label in written {
            let key = label.key.value
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            let keyValid =
                parts.count == 1
                ? Self.isLabelName(parts[0])
                : parts.count == 2 && Self.isSubdomain(parts[0]) && Self.isLabelName(parts[1])
            if !keyValid {
                error(
                    "invalid label key '\(key)' at '\(label.key.origin)'",
                    hint:
                        "a key is an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' and '.'",
                    line: label.key.line)
                continue
            }
            let value = label.value.value
            if !value.isEmpty && !Self.isLabelName(Substring(value)) {
                error(
                    "invalid label value '\(value)' for '\(label.value.origin)'",
                    hint: "a value is at most 63 letters, digits, '-', '_' and '.', or empty",
                    line: label.value.line)
                continue
            }
            labels[key] = value
        }
        return labels
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isLabelName(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63,
            isAlphanumeric(first), isAlphanumeric(last)
        else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                || $0 == UInt8(ascii: ".")
        }
    }

    private static func isSubdomain(_ text: Substring) -> Bool {
        text.utf8.count <= 253 && !text.isEmpty
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
                isLabel(String($0), maxLength: 63)
                    || ($0.first.map { $0.isNumber } ?? false)
                        && $0.allSatisfy { $0.isNumber || ("a"..."z").contains($0) || $0 == "-" }
            }
    }

    // MARK: Kubernetes

    private mutating func kubernetesPlacement(_ spec: TopologySpec) -> KubernetesPlacement {
        let namespace = namespaceName(spec.namespace) ?? KubernetesPlacement.defaultNamespace
        let ingressNamespace = namespaceName(spec.ingressNamespace)
        if Self.systemNamespaces.contains(namespace) {
            systemNamespaceError(
                namespace, origin: spec.namespace?.origin ?? "--namespace",
                line: spec.namespace?.line)
        }
        if let ingressNamespace, ingressNamespace == namespace, let written = spec.ingressNamespace
        {
            error(
                "invalid value '\(ingressNamespace)' for '\(written.origin)': the load balancer's namespace must not be the backend's or the workers'",
                line: written.line)
        }
        return KubernetesPlacement(namespace: namespace, ingressNamespace: ingressNamespace)
    }

    private mutating func systemNamespaceError(_ name: String, origin: String, line: Int?) {
        error(
            "invalid value '\(name)' for '\(origin)': '\(name)' is a Kubernetes system namespace",
            hint:
                "its default deny would cut off the cluster's own services, such as DNS; use a namespace of Spacelift's",
            line: line)
    }

    /// A worker namespace must be the workers' own: not a system namespace, not the backend's,
    /// not the load balancer's.
    private mutating func checkWorkerNamespace(
        _ workerNamespace: String, origin: String?, line: Int?, backend: KubernetesPlacement
    ) {
        let origin = origin ?? "--worker-namespace"
        if Self.systemNamespaces.contains(workerNamespace) {
            systemNamespaceError(workerNamespace, origin: origin, line: line)
        }
        if backend.namespace == workerNamespace {
            error(
                "invalid value '\(workerNamespace)' for '\(origin)': the workers must run in a namespace of their own",
                hint:
                    "worker policies select every pod of the worker namespace, so sharing it with the backend would give the backend the workers' egress",
                line: line)
        }
        if backend.ingressNamespace == workerNamespace {
            error(
                "invalid value '\(workerNamespace)' for '\(origin)': the load balancer's namespace must not be the backend's or the workers'",
                line: line)
        }
    }

    // MARK: AWS

    private mutating func awsPlacement(_ spec: TopologySpec, places: NodePlaces, nodes: [Node])
        -> AWSPlacement
    {
        var vpcID: String?
        if let written = spec.vpcID {
            if Self.isAWSID(written.value, prefix: "vpc-") {
                vpcID = written.value
            } else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': not a VPC id",
                    hint:
                        "a VPC id is 'vpc-' and 8 or 17 hexadecimal digits, for example 'vpc-0a1b2c3d'",
                    line: written.line)
            }
        }
        var namePrefix = AWSPlacement.defaultNamePrefix
        if let written = spec.namePrefix {
            // Group names: at most 255 characters of AWS's set, not starting with 'sg-'; the
            // longest node name and its '-' must still fit.
            let allowed = written.value.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || "._-:/()#,@[]+=&;{}!$*".unicodeScalars.contains($0)
            }
            if written.value.isEmpty || !allowed || written.value.count > 200
                || written.value.lowercased().hasPrefix("sg-")
            {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': not a security group name prefix",
                    hint:
                        "use at most 200 letters, digits and ._-:/()#,@[]+=&;{}!$*, not starting with 'sg-'",
                    line: written.line)
            } else {
                namePrefix = written.value
            }
        }
        var maxRules = AWSPlacement.defaultMaxRules
        if let written = spec.maxRules {
            if let value = Int(written.value), (1...1000).contains(value),
                written.value.first != "0"
            {
                maxRules = value
            } else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': expected a number from 1 to 1000",
                    hint: "AWS allows 60 rules per group and direction unless the quota was raised",
                    line: written.line)
            }
        }
        var prefixLists: [Node: Set<PrefixList>] = [:]
        for (node, written) in places.prefixLists {
            if let list = prefixList(written.value, for: node, written: written) {
                prefixLists[node, default: []].insert(list)
            }
        }
        var flagLists: [Node: Set<PrefixList>] = [:]
        for written in spec.prefixLists {
            let text = written.value
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            guard let equals = text.firstIndex(of: "="),
                let node = nodes.first(where: { $0.name == text[..<equals] })
            else {
                error(
                    "invalid value '\(text)' for '\(written.origin)'",
                    hint: text.contains("=")
                        ? (closestMatch(to: name, in: nodes.map(\.name)).map {
                            "unknown node '\(name)'; did you mean '\($0)'?"
                        } ?? "unknown node '\(name)'")
                        : "write NODE=pl-ID[:ENTRIES], for example 'object-storage=pl-63a5400a'",
                    line: written.line)
                continue
            }
            let value = String(text[text.index(after: equals)...])
            if let list = prefixList(value, for: node, written: written) {
                flagLists[node, default: []].insert(list)
            }
        }
        prefixLists.merge(flagLists) { _, flags in flags }
        var securityGroups: [Node: Set<String>] = [:]
        for (node, written) in places.securityGroups {
            guard externalNode(node, field: "securityGroups", written: written) else { continue }
            guard Self.isAWSID(written.value, prefix: "sg-") else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': not a security group id",
                    hint: "a security group id is 'sg-' and 8 or 17 hexadecimal digits",
                    line: written.line)
                continue
            }
            securityGroups[node, default: []].insert(written.value)
        }
        return AWSPlacement(
            vpcID: vpcID, namePrefix: namePrefix, maxRules: maxRules,
            prefixLists: prefixLists.mapValues { $0.sorted() },
            securityGroups: securityGroups.mapValues { $0.sorted() })
    }

    /// Whether `node` may stand for itself by a security group or prefix list: an external
    /// service, not the administrators.
    private mutating func externalNode(_ node: Node, field: String, written: Written<String>)
        -> Bool
    {
        guard node.kind == .external, node != .admin else {
            error(
                "invalid value '\(written.value)' for '\(written.origin)': '\(node)' is not an external service",
                hint: node.kind == .external
                    ? "\(field) stand for services outside the installation, such as object-storage"
                    : "topogen writes the rules of '\(node)' itself; \(field) stand for services outside the installation",
                line: written.line)
            return false
        }
        return true
    }

    /// `pl-ID[:ENTRIES]` for a node.
    private mutating func prefixList(_ value: String, for node: Node, written: Written<String>)
        -> PrefixList?
    {
        guard externalNode(node, field: "prefix lists", written: written) else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let id = String(parts[0])
        var entries = 1
        if parts.count == 2 {
            guard let count = Int(parts[1]), (1...1000).contains(count), parts[1].first != "0"
            else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': '\(parts[1])' is not a number of entries",
                    line: written.line)
                return nil
            }
            entries = count
        }
        guard Self.isAWSID(id, prefix: "pl-") else {
            error(
                "invalid value '\(written.value)' for '\(written.origin)': '\(id)' is not a prefix list id",
                hint: "a prefix list id is 'pl-' and 8 or 17 hexadecimal digits", line: written.line
            )
            return nil
        }
        return PrefixList(id: id, entries: entries)
    }

    /// Whether `text` is an AWS resource id: the prefix, then 8 or 17 lower-case hex digits.
    static func isAWSID(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let digits = text.dropFirst(prefix.count)
        return (digits.count == 8 || digits.count == 17)
            && digits.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    // MARK: Addresses

    /// Files the address spec of a node written under a key (`nodes.postgres`).
    @discardableResult
    private mutating func place(
        _ addresses: AddressSpec, named written: Written<String>, in places: inout NodePlaces
    ) -> Node? {
        guard let node = places.nodes.first(where: { $0.name == written.value }),
            node.role != .worker, node.role != .infrastructure, node.role != .extra
        else {
            let names = places.nodes.filter {
                $0.role != .worker && $0.role != .infrastructure && $0.role != .extra
            }.map(\.name)
            error(
                "unknown node '\(written.value)' at '\(written.origin)'",
                hint: closestMatch(to: written.value, in: names).map { "did you mean '\($0)'?" }
                    ?? "nodes are: \(names.joined(separator: ", ")); worker pools and extra egress say where they are in their own entries",
                line: written.line)
            return nil
        }
        if let section = Self.ownSections[node.role] {
            error(
                "'\(written.origin)': the addresses of '\(node)' are written under '\(section)'",
                line: written.line)
            return nil
        }
        places.add(addresses, for: node, resolver: &self)
        return node
    }

    /// The nodes whose addresses have a section of their own, which also says they exist.
    static let ownSections: [Node.Role: String] = [
        .vcsGateway: "vcsGateway", .vcsGatewayLB: "vcsGateway.loadBalancer",
        .egressProxy: "egressProxy",
    ]

    private mutating func resolveFileAddresses(_ places: NodePlaces) -> [Node: [CIDR]] {
        var entries: [Node: [Written<String>]] = [:]
        for (node, written) in places.cidrs { entries[node, default: []].append(written) }
        return collect(entries.map { ($0.key, $0.value) })
    }

    private mutating func resolveAddresses(_ entries: [AddressEntry], nodes: [Node]) -> [Node:
        [CIDR]]
    {
        var written: [(Node, [Written<String>])] = []
        for entry in entries {
            guard let node = nodes.first(where: { $0.name == entry.node }) else {
                let names = nodes.map(\.name)
                error(
                    "unknown node '\(entry.node)' in '\(entry.place)=...'",
                    hint: closestMatch(to: entry.node, in: names).map { "did you mean '\($0)'?" }
                        ?? "nodes are: \(names.joined(separator: ", "))")
                continue
            }
            if entry.cidrs.isEmpty {
                error(
                    "'\(entry.place)' names no CIDR",
                    hint: "write '\(entry.place)=CIDR[,CIDR...]'")
            }
            written.append((node, entry.cidrs.map { Written($0, at: entry.place) }))
        }
        return collect(written)
    }

    /// Parses CIDRs by node, warning about those inside others.
    private mutating func collect(_ entries: [(Node, [Written<String>])]) -> [Node: [CIDR]] {
        var addresses: [Node: [CIDR]] = [:]
        for (node, cidrs) in entries {
            for written in cidrs {
                let text = written.value
                do {
                    addresses[node, default: []].append(try CIDR(parsing: text))
                } catch {
                    let location = "'\(written.origin)'"
                    switch error {
                    case .malformed:
                        self.error(
                            "invalid CIDR '\(text)' for \(location)",
                            hint:
                                "write ADDRESS/PREFIX, for example '10.0.0.0/16' or '2001:db8::/32'",
                            line: written.line)
                    case .hostBitsSet(_, let network):
                        self.error(
                            "invalid CIDR '\(text)' for \(location): host bits are set",
                            hint: "did you mean '\(network)'?", line: written.line)
                    }
                }
            }
        }
        var result: [Node: [CIDR]] = [:]
        for node in addresses.keys.sorted() {
            guard let cidrs = addresses[node] else { continue }
            // By length, then address; repeats are then next to each other.
            let sorted = cidrs.sorted { ($0.prefixLength, $0) < ($1.prefixLength, $1) }
            // The longest length of each family: a network of that length is never a wider
            // one of another, so it need not be looked up.
            var longest: [IPFamily: Int] = [:]
            for cidr in sorted { longest[cidr.family] = cidr.prefixLength }
            var kept: [CIDR] = []
            var keptSet: Set<CIDR> = []
            // The prefix lengths kept, by family, in increasing order (the CIDRs come sorted
            // by length).
            var keptLengths: [IPFamily: [Int]] = [:]
            for (index, cidr) in sorted.enumerated() {
                if index > 0 && sorted[index - 1] == cidr { continue }
                // The widest network kept that contains it, found among its supernets of the
                // shorter lengths kept rather than by comparing every pair.
                let lengths = keptLengths[cidr.family] ?? []
                let wider = lengths.lazy.filter { $0 < cidr.prefixLength }
                    .compactMap(cidr.supernet(ofLength:)).first(where: keptSet.contains)
                if let wider {
                    warning(
                        "CIDR '\(cidr)' for node '\(node)' lies inside '\(wider)' and adds nothing")
                } else {
                    kept.append(cidr)
                    if cidr.prefixLength != longest[cidr.family] { keptSet.insert(cidr) }
                    if lengths.last != cidr.prefixLength {
                        keptLengths[cidr.family, default: []].append(cidr.prefixLength)
                    }
                }
            }
            result[node] = kept.sorted()
        }
        return result
    }
}

/// What a topology file says of where its nodes are, gathered by node before validation.
struct NodePlaces {
    /// The installation's nodes.
    let nodes: [Node]
    /// CIDRs, by node, as written.
    var cidrs: [(Node, Written<String>)] = []
    /// Security group ids, by node.
    var securityGroups: [(Node, Written<String>)] = []
    /// `pl-ID[:ENTRIES]`, by node.
    var prefixLists: [(Node, Written<String>)] = []
    /// Pods, by node; workers' are their pool's namespace and labels.
    var selectors: [Node: PodSelector] = [:]
    /// The namespaces of ``selectors`` as written.
    var namespaces: [Node: Written<String>] = [:]

    /// Adds a node's address spec; a Kubernetes selector is resolved at once.
    mutating func add(_ spec: AddressSpec, for node: Node, resolver: inout Resolver) {
        cidrs += spec.cidrs.map { (node, $0) }
        securityGroups += spec.securityGroups.map { (node, $0) }
        prefixLists += spec.prefixLists.map { (node, $0) }
        guard let selector = spec.kubernetes, node.role != .worker else { return }
        guard node.kind == .external, ![.admin, .clients, .dns].contains(node.role) else {
            resolver.error(
                "'\(spec.origin).kubernetes' does not apply to '\(node)'",
                hint: node.kind == .external
                    ? "only services the components reach can be pods of the cluster"
                    : "topogen selects Spacelift's components by the labels of its Helm chart",
                line: selector.namespace?.line ?? spec.line)
            return
        }
        guard let written = selector.namespace else {
            resolver.error(
                "'\(spec.origin).kubernetes' names no namespace", hint: "add 'namespace'",
                line: spec.line)
            return
        }
        guard let namespace = resolver.namespaceName(written) else { return }
        selectors[node] = PodSelector(
            namespace: namespace, labels: resolver.labels(selector.labels))
        namespaces[node] = written
    }
}
