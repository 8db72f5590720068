/// A value as the user wrote it, with where it was written, so that a problem with it can be
/// reported in the user's terms.
///
/// For example: `Written("70000", at: "--postgres-port")`.
public struct Written<Value: Hashable & Sendable>: Hashable, Sendable {
    /// The value as written.
    public var value: Value
    /// Where it was written: an option such as `--postgres-port`, or a field path.
    public var origin: String

    /// Creates a written value.
    public init(_ value: Value, at origin: String) {
        self.value = value
        self.origin = origin
    }
}

/// The addresses the user gave for one node, as written: `--cidr NODE=CIDR[,CIDR...]`.
public struct AddressEntry: Hashable, Sendable {
    /// The node name as written, for example `postgres`.
    public var node: String
    /// The CIDRs as written.
    public var cidrs: [String]
    /// Where the entry was written: `--cidr` (whose value names the node), or an option or
    /// field that stands for one node, such as `--allow-ssh-from`.
    public var origin: String

    /// How messages name the entry: `--cidr postgres`, or `--allow-ssh-from`.
    var place: String { origin == "--cidr" ? "\(origin) \(node)" : origin }

    /// Creates an entry.
    public init(node: String, cidrs: [String], origin: String) {
        self.node = node
        self.cidrs = cidrs
        self.origin = origin
    }
}

/// What the user asked for, as written, before validation. ``resolve()`` turns it into a
/// ``Topology`` or reports every problem at once.
///
/// For example: `topogen --with-iot-core --mqtt-port 1983` resolves to two errors, that IoT
/// Core needs `--with-sqs` and that 1983 is the server's HTTP port.
public struct TopologySpec: Hashable, Sendable {
    /// `--with-sqs`.
    public var withSQS: Written<Bool>?
    /// `--with-iot-core`.
    public var withIoTCore: Written<Bool>?
    /// `--with-kms`.
    public var withKMS: Written<Bool>?
    /// `--postgres-port N`.
    public var postgresPort: Written<String>?
    /// `--mqtt-port N`.
    public var mqttPort: Written<String>?
    /// `--infrastructure-port N` or `N-M`, repeatable.
    public var infrastructurePorts: [Written<String>] = []
    /// `--cidr NODE=CIDR[,CIDR...]`, repeatable; entries for one node add up.
    /// `--allow-ssh-from CIDR` is an entry for the `admin` node.
    public var addresses: [AddressEntry] = []
    /// `--workers in-cluster|external`.
    public var workers: Written<String>?
    /// `--namespace NS`.
    public var namespace: Written<String>?
    /// `--worker-namespace NS`.
    public var workerNamespace: Written<String>?
    /// `--ingress-namespace NS`.
    public var ingressNamespace: Written<String>?
    /// `--vpc-id vpc-...`.
    public var vpcID: Written<String>?
    /// `--name-prefix P`.
    public var namePrefix: Written<String>?
    /// `--max-rules N`.
    public var maxRules: Written<String>?
    /// `--prefix-list NODE=pl-ID[:ENTRIES]`, repeatable.
    public var prefixLists: [Written<String>] = []

    /// Creates an empty spec: the reference installation.
    public init() {}

    /// Validates the spec and builds the topology it describes.
    ///
    /// - Returns: The topology and any warnings.
    /// - Throws: ``TopologyError`` with every problem found, when any of them is an error.
    public func resolve() throws(TopologyError) -> (topology: Topology, warnings: [Diagnostic]) {
        var resolver = Resolver()
        let topology = resolver.resolve(self)
        guard let topology, !resolver.diagnostics.contains(where: { $0.severity == .error })
        else { throw TopologyError(diagnostics: resolver.diagnostics) }
        return (topology, resolver.diagnostics)
    }
}

/// Validates a spec, collecting diagnostics instead of stopping at the first.
private struct Resolver {
    var diagnostics: [Diagnostic] = []

    mutating func error(_ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, message, hint: hint))
    }

    mutating func warning(_ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.warning, message, hint: hint))
    }

    mutating func resolve(_ spec: TopologySpec) -> Topology? {
        let sqs = spec.withSQS?.value ?? false
        let iotCore = spec.withIoTCore?.value ?? false
        let kms = spec.withKMS?.value ?? false
        if iotCore && !sqs, let origin = spec.withIoTCore?.origin {
            error(
                "'\(origin)' requires '\(spec.withSQS?.origin ?? "--with-sqs")'",
                hint:
                    "AWS IoT Core as the MQTT broker needs the SQS message queues; add '--with-sqs'"
            )
        }
        let postgresPort = singlePort(spec.postgresPort) ?? Topology.defaultPostgresPort
        let mqttPort = singlePort(spec.mqttPort) ?? Topology.defaultMQTTPort
        if let written = spec.mqttPort, mqttPort == Topology.httpPort, !iotCore {
            error(
                "invalid value '\(written.value)' for '\(written.origin)': \(Topology.httpPort) is the server's HTTP port",
                hint:
                    "the built-in broker listens on \(Topology.defaultMQTTPort) unless told otherwise"
            )
        }
        if let written = spec.mqttPort, mqttPort == 443, !iotCore {
            warning(
                "'\(written.origin) 443' is the public endpoint's HTTPS port",
                hint:
                    "the MQTT port and HTTPS then share 443; that works only behind separate load balancers"
            )
        }
        if let written = spec.mqttPort, iotCore {
            warning(
                "'\(written.origin)' has no effect with '\(spec.withIoTCore?.origin ?? "--with-iot-core")'",
                hint: "workers reach AWS IoT Core on 443")
        }
        var infrastructurePorts: Set<PortRange> = []
        for written in spec.infrastructurePorts {
            do {
                infrastructurePorts.insert(try PortRange(parsing: written.value))
            } catch {
                self.error(portMessage(error, written))
            }
        }
        let workers = workerPlacement(spec.workers)
        let kubernetes = kubernetesPlacement(spec)
        let workerNamespace =
            namespaceName(spec.workerNamespace) ?? WorkerPool.defaultNamespace
        checkWorkerNamespace(workerNamespace, spec: spec, backend: kubernetes.namespace)
        let pool = WorkerPool(
            placement: workers,
            infrastructurePorts: infrastructurePorts.isEmpty
                ? Topology.defaultInfrastructurePorts : infrastructurePorts.sorted(),
            namespace: workerNamespace)
        let addresses = resolveAddresses(spec.addresses)
        let aws = awsPlacement(spec)
        return Topology(
            usesSQS: sqs, usesIoTCore: iotCore, usesKMS: kms, postgresPort: postgresPort,
            mqttPort: mqttPort, workerPools: [pool], vcsGateway: nil, egressProxy: nil,
            extraEgress: [], privateEndpoints: [], kubernetes: kubernetes, aws: aws,
            addresses: addresses)
    }

    private func portMessage(_ error: PortError, _ written: Written<String>) -> String {
        "invalid value '\(written.value)' for '\(written.origin)': \(error.reason)"
    }

    private mutating func singlePort(_ written: Written<String>?) -> UInt16? {
        guard let written else { return nil }
        do {
            let range = try PortRange(parsing: written.value)
            guard range.isSinglePort else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': expected one port, not a range"
                )
                return nil
            }
            return range.lower
        } catch {
            self.error(portMessage(error, written))
            return nil
        }
    }

    private mutating func workerPlacement(_ written: Written<String>?) -> WorkerPlacement {
        guard let written else { return .inNetwork }
        if let placement = WorkerPlacement(rawValue: written.value) { return placement }
        let names = WorkerPlacement.allCases.map(\.rawValue)
        error(
            "invalid value '\(written.value)' for '\(written.origin)'",
            hint: closestMatch(to: written.value, in: names).map { "did you mean '\($0)'?" }
                ?? "expected one of: \(names.joined(separator: ", "))")
        return .inNetwork
    }

    private mutating func kubernetesPlacement(_ spec: TopologySpec) -> KubernetesPlacement {
        let namespace = namespaceName(spec.namespace) ?? KubernetesPlacement.defaultNamespace
        let ingressNamespace = namespaceName(spec.ingressNamespace)
        if Self.systemNamespaces.contains(namespace) {
            systemNamespaceError(namespace, origin: spec.namespace?.origin ?? "--namespace")
        }
        if let ingressNamespace, ingressNamespace == namespace,
            let origin = spec.ingressNamespace?.origin
        {
            error(
                "invalid value '\(ingressNamespace)' for '\(origin)': the load balancer's namespace must not be the backend's or the workers'"
            )
        }
        return KubernetesPlacement(namespace: namespace, ingressNamespace: ingressNamespace)
    }

    private mutating func systemNamespaceError(_ name: String, origin: String) {
        error(
            "invalid value '\(name)' for '\(origin)': '\(name)' is a Kubernetes system namespace",
            hint:
                "its default deny would cut off the cluster's own services, such as DNS; use a namespace of Spacelift's"
        )
    }

    /// A worker namespace must be the workers' own: not a system namespace, not the backend's,
    /// not the load balancer's.
    private mutating func checkWorkerNamespace(
        _ workerNamespace: String, spec: TopologySpec, backend namespace: String
    ) {
        if Self.systemNamespaces.contains(workerNamespace) {
            systemNamespaceError(
                workerNamespace, origin: spec.workerNamespace?.origin ?? "--worker-namespace")
        }
        if namespace == workerNamespace {
            let origin = spec.workerNamespace?.origin ?? spec.namespace?.origin ?? "--namespace"
            error(
                "invalid value '\(workerNamespace)' for '\(origin)': the workers must run in a namespace of their own",
                hint:
                    "worker policies select every pod of the worker namespace, so sharing it with the backend would give the backend the workers' egress"
            )
        }
        if let ingress = spec.ingressNamespace, ingress.value == workerNamespace {
            error(
                "invalid value '\(ingress.value)' for '\(ingress.origin)': the load balancer's namespace must not be the backend's or the workers'"
            )
        }
    }

    private mutating func awsPlacement(_ spec: TopologySpec) -> AWSPlacement {
        var vpcID: String?
        if let written = spec.vpcID {
            if Self.isAWSID(written.value, prefix: "vpc-") {
                vpcID = written.value
            } else {
                error(
                    "invalid value '\(written.value)' for '\(written.origin)': not a VPC id",
                    hint:
                        "a VPC id is 'vpc-' and 8 or 17 hexadecimal digits, for example 'vpc-0a1b2c3d'"
                )
            }
        }
        var namePrefix = AWSPlacement.defaultNamePrefix
        if let written = spec.namePrefix {
            // Group names: at most 255 characters of AWS's set, not starting with 'sg-'; the
            // longest node name, 'container-registry', and its '-' must still fit.
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
                        "use at most 200 letters, digits and ._-:/()#,@[]+=&;{}!$*, not starting with 'sg-'"
                )
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
                    hint: "AWS allows 60 rules per group and direction unless the quota was raised")
            }
        }
        var prefixLists: [Node: Set<PrefixList>] = [:]
        for written in spec.prefixLists {
            let text = written.value
            guard let equals = text.firstIndex(of: "="),
                let node = Node(rawValue: String(text[..<equals]))
            else {
                let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
                error(
                    "invalid value '\(text)' for '\(written.origin)'",
                    hint: text.contains("=")
                        ? (closestMatch(to: name, in: Node.allCases.map(\.rawValue)).map {
                            "unknown node '\(name)'; did you mean '\($0)'?"
                        } ?? "unknown node '\(name)'")
                        : "write NODE=pl-ID[:ENTRIES], for example 'object-storage=pl-63a5400a'")
                continue
            }
            guard node.kind == .external, node != .admin else {
                error(
                    "invalid value '\(text)' for '\(written.origin)': '\(node)' is not an external service",
                    hint:
                        "prefix lists stand for services outside the installation, such as object-storage"
                )
                continue
            }
            let value = text[text.index(after: equals)...]
            let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let id = String(parts[0])
            var entries = 1
            if parts.count == 2 {
                guard let count = Int(parts[1]), (1...1000).contains(count), parts[1].first != "0"
                else {
                    error(
                        "invalid value '\(text)' for '\(written.origin)': '\(parts[1])' is not a number of entries"
                    )
                    continue
                }
                entries = count
            }
            guard Self.isAWSID(id, prefix: "pl-") else {
                error(
                    "invalid value '\(text)' for '\(written.origin)': '\(id)' is not a prefix list id",
                    hint: "a prefix list id is 'pl-' and 8 or 17 hexadecimal digits")
                continue
            }
            prefixLists[node, default: []].insert(PrefixList(id: id, entries: entries))
        }
        return AWSPlacement(
            vpcID: vpcID, namePrefix: namePrefix, maxRules: maxRules,
            prefixLists: prefixLists.mapValues { $0.sorted() })
    }

    /// Whether `text` is an AWS resource id: the prefix, then 8 or 17 lower-case hex digits.
    private static func isAWSID(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let digits = text.dropFirst(prefix.count)
        return (digits.count == 8 || digits.count == 17)
            && digits.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// Namespaces of the cluster itself, which topogen must never default-deny.
    static let systemNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease"]

    /// A Kubernetes namespace name: an RFC 1123 label.
    private mutating func namespaceName(_ written: Written<String>?) -> String? {
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
                    "a namespace name is at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
            )
            return nil
        }
        return name
    }

    private mutating func resolveAddresses(_ entries: [AddressEntry]) -> [Node: [CIDR]] {
        var addresses: [Node: Set<CIDR>] = [:]
        for entry in entries {
            guard let node = Node(rawValue: entry.node) else {
                error(
                    "unknown node '\(entry.node)' in '\(entry.place)=...'",
                    hint: closestMatch(to: entry.node, in: Node.allCases.map(\.rawValue)).map {
                        "did you mean '\($0)'?"
                    }
                        ?? "nodes are: \(Node.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            if entry.cidrs.isEmpty {
                error(
                    "'\(entry.place)' names no CIDR",
                    hint: "write '\(entry.place)=CIDR[,CIDR...]'")
            }
            for text in entry.cidrs {
                do {
                    addresses[node, default: []].insert(try CIDR(parsing: text))
                } catch {
                    let location = "'\(entry.place)'"
                    switch error {
                    case .malformed:
                        self.error(
                            "invalid CIDR '\(text)' for \(location)",
                            hint:
                                "write ADDRESS/PREFIX, for example '10.0.0.0/16' or '2001:db8::/32'"
                        )
                    case .hostBitsSet(_, let network):
                        self.error(
                            "invalid CIDR '\(text)' for \(location): host bits are set",
                            hint: "did you mean '\(network)'?")
                    }
                }
            }
        }
        var result: [Node: [CIDR]] = [:]
        for node in Node.allCases {
            guard let cidrs = addresses[node] else { continue }
            let sorted = cidrs.sorted { ($0.prefixLength, $0) < ($1.prefixLength, $1) }
            var kept: [CIDR] = []
            for cidr in sorted {
                if let wider = kept.first(where: { $0.contains(cidr) }) {
                    warning(
                        "CIDR '\(cidr)' for node '\(node)' lies inside '\(wider)' and adds nothing")
                } else {
                    kept.append(cidr)
                }
            }
            result[node] = kept.sorted()
        }
        return result
    }
}
