public import TopologyModel

/// The topology file: one installation described in YAML or JSON, decoded into the
/// ``TopologySpec`` the command line also fills, so that one resolver validates both.
///
/// The format is `docs/topology-file.md`; `schema/topology.schema.json` describes it for
/// editors. Every value keeps its field path and, in YAML, its line, so that the resolver's
/// messages name them.
///
/// For example:
///
/// ```yaml
/// options: {sqs: true}
/// workerPools:
///   - name: eu
///     cidrs: [10.1.0.0/16]
/// ```
///
/// decodes to a spec with `withSQS` written at `options.sqs` (line 1) and one worker pool
/// `eu` whose CIDR is written at `workerPools[0].cidrs[0]` (line 4).
public enum TopologyFile {
    /// Decodes a topology file: JSON when its text starts with `{`, YAML otherwise.
    ///
    /// - Throws: ``TopologyError`` with every problem of structure found (a field of the
    ///   wrong type, an unknown field), each with its path and line.
    public static func decode(_ text: String) throws(TopologyError) -> TopologySpec {
        let document: YAMLValue
        do {
            if text.drop(while: \.isWhitespace).first == "{" {
                document = try JSONReader.value(text)
            } else {
                let documents = try YAMLReader.documents(text)
                guard documents.count <= 1 else {
                    throw TopologyError(diagnostics: [
                        Diagnostic(
                            .error, "a topology file holds one document, not \(documents.count)",
                            hint: "remove the '---' separators", line: documents[1].line)
                    ])
                }
                document = documents.first ?? YAMLValue(.null)
            }
        } catch let error as YAMLError {
            throw TopologyError(diagnostics: [
                Diagnostic(.error, error.message, line: error.line)
            ])
        } catch let error as TopologyError {
            throw error
        } catch {
            throw TopologyError(diagnostics: [Diagnostic(.error, "\(error)")])
        }
        var decoder = TopologyFileDecoder()
        let spec = decoder.spec(document)
        if decoder.diagnostics.contains(where: { $0.severity == .error }) {
            throw TopologyError(diagnostics: decoder.diagnostics)
        }
        return spec
    }
}

/// Walks a decoded document into a ``TopologySpec``, collecting every structural problem.
struct TopologyFileDecoder {
    var diagnostics: [Diagnostic] = []

    /// The fields of an address block, allowed wherever a node is described.
    static let addressFields = ["cidrs", "securityGroups", "prefixLists", "kubernetes"]

    mutating func spec(_ document: YAMLValue) -> TopologySpec {
        var spec = TopologySpec()
        let fields = mapping(
            document, at: "",
            keys: [
                "options", "ports", "kubernetes", "aws", "nodes", "workerPools", "vcsGateway",
                "egressProxy", "privateEndpoints", "extraEgress",
            ])
        if let options = fields["options"] {
            let keys = mapping(options.value, at: "options", keys: ["sqs", "iotCore", "kms"])
            spec.withSQS = keys["sqs"].flatMap { bool($0, at: "options.sqs") }
            spec.withIoTCore = keys["iotCore"].flatMap { bool($0, at: "options.iotCore") }
            spec.withKMS = keys["kms"].flatMap { bool($0, at: "options.kms") }
        }
        if let ports = fields["ports"] {
            let keys = mapping(ports.value, at: "ports", keys: ["postgres", "mqtt"])
            spec.postgresPort = keys["postgres"].flatMap {
                scalar($0, at: "ports.postgres", numbers: true)
            }
            spec.mqttPort = keys["mqtt"].flatMap { scalar($0, at: "ports.mqtt", numbers: true) }
        }
        if let kubernetes = fields["kubernetes"] {
            let keys = mapping(
                kubernetes.value, at: "kubernetes", keys: ["namespace", "ingressNamespace"])
            spec.namespace = keys["namespace"].flatMap { scalar($0, at: "kubernetes.namespace") }
            spec.ingressNamespace = keys["ingressNamespace"].flatMap {
                scalar($0, at: "kubernetes.ingressNamespace")
            }
        }
        if let aws = fields["aws"] {
            let keys = mapping(aws.value, at: "aws", keys: ["vpcId", "namePrefix", "maxRules"])
            spec.vpcID = keys["vpcId"].flatMap { scalar($0, at: "aws.vpcId") }
            spec.namePrefix = keys["namePrefix"].flatMap { scalar($0, at: "aws.namePrefix") }
            spec.maxRules = keys["maxRules"].flatMap {
                scalar($0, at: "aws.maxRules", numbers: true)
            }
        }
        if let nodes = fields["nodes"] {
            spec.nodes = nodeSpecs(nodes.value, at: "nodes")
        }
        if let endpoints = fields["privateEndpoints"] {
            spec.privateEndpoints = nodeSpecs(endpoints.value, at: "privateEndpoints")
        }
        if let pools = fields["workerPools"] {
            spec.workerPools = sequence(pools.value, at: "workerPools").compactMap {
                workerPool($0.value, at: $0.path)
            }
        }
        if let gateway = fields["vcsGateway"] {
            let keys = mapping(
                gateway.value, at: "vcsGateway",
                keys: ["grpcPort", "httpPort", "loadBalancer"] + Self.addressFields)
            var gatewaySpec = VCSGatewaySpec(
                addresses: addresses(keys, at: "vcsGateway", line: gateway.value.line),
                loadBalancer: AddressSpec(origin: "vcsGateway.loadBalancer"))
            gatewaySpec.grpcPort = keys["grpcPort"].flatMap {
                scalar($0, at: "vcsGateway.grpcPort", numbers: true)
            }
            gatewaySpec.httpPort = keys["httpPort"].flatMap {
                scalar($0, at: "vcsGateway.httpPort", numbers: true)
            }
            if let balancer = keys["loadBalancer"] {
                gatewaySpec.loadBalancer = addressBlock(
                    balancer, at: "vcsGateway.loadBalancer")
            }
            spec.vcsGateway = gatewaySpec
        }
        if let proxy = fields["egressProxy"] {
            let keys = mapping(proxy.value, at: "egressProxy", keys: ["port"] + Self.addressFields)
            spec.egressProxy = EgressProxySpec(
                port: keys["port"].flatMap { scalar($0, at: "egressProxy.port", numbers: true) },
                addresses: addresses(keys, at: "egressProxy", line: proxy.value.line ?? proxy.line))
        }
        if let extra = fields["extraEgress"] {
            spec.extraEgress = sequence(extra.value, at: "extraEgress").compactMap {
                extraEgress($0.value, at: $0.path)
            }
        }
        return spec
    }

    // MARK: Sections

    private mutating func nodeSpecs(_ value: YAMLValue, at path: String) -> [NodeSpec] {
        guard case .mapping(let entries) = value.kind else {
            if value.kind != .null {
                typeError(value, at: path, expected: "a mapping of node names")
            }
            return []
        }
        return entries.map { entry in
            let entryPath = "\(path).\(entry.key)"
            return NodeSpec(
                node: Written(entry.key, at: entryPath, line: entry.keyLine),
                addresses: addressBlock(
                    Field(value: entry.value, line: entry.keyLine), at: entryPath))
        }
    }

    private mutating func workerPool(_ value: YAMLValue, at path: String) -> WorkerPoolSpec? {
        guard value.kind != .null else {
            typeError(value, at: path, expected: "a mapping")
            return nil
        }
        let keys = mapping(
            value, at: path, keys: ["name", "placement", "infrastructure"] + Self.addressFields)
        guard case .mapping = value.kind else { return nil }
        guard let name = keys["name"].flatMap({ scalar($0, at: "\(path).name") }) else {
            if keys["name"] == nil {
                error(
                    "'\(path)' has no name", hint: "add 'name', for example 'eu'", line: value.line)
            }
            return nil
        }
        var pool = WorkerPoolSpec(
            name: name, addresses: addresses(keys, at: path, line: value.line),
            infrastructure: AddressSpec(origin: "\(path).infrastructure"))
        pool.placement = keys["placement"].flatMap { scalar($0, at: "\(path).placement") }
        if let infrastructure = keys["infrastructure"] {
            let infrastructurePath = "\(path).infrastructure"
            let fields = mapping(
                infrastructure.value, at: infrastructurePath, keys: ["ports"] + Self.addressFields)
            pool.infrastructure = addresses(
                fields, at: infrastructurePath,
                line: infrastructure.value.line ?? infrastructure.line)
            if let ports = fields["ports"] {
                pool.infrastructurePorts = scalars(
                    ports, at: "\(infrastructurePath).ports", numbers: true)
            }
        }
        return pool
    }

    private mutating func extraEgress(_ value: YAMLValue, at path: String) -> ExtraEgressSpec? {
        guard value.kind != .null else {
            typeError(value, at: path, expected: "a mapping")
            return nil
        }
        let keys = mapping(
            value, at: path, keys: ["name", "from", "ports", "reason"] + Self.addressFields)
        guard case .mapping = value.kind else { return nil }
        guard let name = keys["name"].flatMap({ scalar($0, at: "\(path).name") }) else {
            if keys["name"] == nil {
                error(
                    "'\(path)' has no name", hint: "add 'name', for example 'otel-collector'",
                    line: value.line)
            }
            return nil
        }
        var egress = ExtraEgressSpec(
            name: name, addresses: addresses(keys, at: path, line: value.line))
        egress.sources = keys["from"].map { scalars($0, at: "\(path).from") } ?? []
        egress.ports = keys["ports"].map { scalars($0, at: "\(path).ports", numbers: true) } ?? []
        egress.reason = keys["reason"].flatMap { scalar($0, at: "\(path).reason") }
        return egress
    }

    /// An address block on its own: `loadBalancer: {cidrs: [...]}`.
    private mutating func addressBlock(_ field: Field, at path: String) -> AddressSpec {
        let keys = mapping(field.value, at: path, keys: Self.addressFields)
        return addresses(keys, at: path, line: field.value.line ?? field.line)
    }

    /// The address fields among a mapping's fields.
    private mutating func addresses(_ keys: [String: Field], at path: String, line: Int?)
        -> AddressSpec
    {
        var spec = AddressSpec(origin: path, line: line)
        if let cidrs = keys["cidrs"] { spec.cidrs = scalars(cidrs, at: "\(path).cidrs") }
        if let groups = keys["securityGroups"] {
            spec.securityGroups = scalars(groups, at: "\(path).securityGroups")
        }
        if let lists = keys["prefixLists"] {
            spec.prefixLists = scalars(lists, at: "\(path).prefixLists")
        }
        if let kubernetes = keys["kubernetes"] {
            let kubernetesPath = "\(path).kubernetes"
            let fields = mapping(
                kubernetes.value, at: kubernetesPath, keys: ["namespace", "labels"])
            var selector = PodSelectorSpec(
                namespace: fields["namespace"].flatMap {
                    scalar($0, at: "\(kubernetesPath).namespace")
                })
            if let labels = fields["labels"] {
                let labelsPath = "\(kubernetesPath).labels"
                if case .mapping(let entries) = labels.value.kind {
                    for entry in entries {
                        let valuePath = "\(labelsPath).\(entry.key)"
                        guard
                            let value = scalar(
                                Field(value: entry.value, line: entry.keyLine), at: valuePath,
                                numbers: true)
                        else { continue }
                        selector.labels.append(
                            LabelSpec(
                                key: Written(entry.key, at: labelsPath, line: entry.keyLine),
                                value: value))
                    }
                } else if labels.value.kind != .null {
                    typeError(labels.value, at: labelsPath, expected: "a mapping of labels")
                }
            }
            spec.kubernetes = selector
        }
        return spec
    }

    // MARK: Values

    /// A value and the line of its key, for values (such as `key:`) that have no line of
    /// their own.
    struct Field {
        var value: YAMLValue
        var line: Int?
    }

    /// The fields of a mapping, reporting unknown keys; `null` is an empty mapping.
    private mutating func mapping(_ value: YAMLValue, at path: String, keys: [String])
        -> [String: Field]
    {
        guard case .mapping(let entries) = value.kind else {
            if value.kind != .null {
                typeError(value, at: path.isEmpty ? "the file" : path, expected: "a mapping")
            }
            return [:]
        }
        var fields: [String: Field] = [:]
        for entry in entries {
            guard keys.contains(entry.key) else {
                let place = path.isEmpty ? "" : " in '\(path)'"
                error(
                    "unknown field '\(entry.key)'\(place)",
                    hint: closestMatch(to: entry.key, in: keys).map { "did you mean '\($0)'?" }
                        ?? "fields are: \(keys.joined(separator: ", "))",
                    line: entry.keyLine ?? value.line)
                continue
            }
            fields[entry.key] = Field(value: entry.value, line: entry.keyLine)
        }
        return fields
    }

    /// The items of a sequence with their paths; `null` is empty.
    private mutating func sequence(_ value: YAMLValue, at path: String) -> [(
        value: YAMLValue, path: String
    )] {
        guard case .sequence(let items) = value.kind else {
            if value.kind != .null { typeError(value, at: path, expected: "a list") }
            return []
        }
        return items.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
    }

    /// A list of scalars, each with its path.
    private mutating func scalars(_ field: Field, at path: String, numbers: Bool = false)
        -> [Written<String>]
    {
        sequence(field.value, at: path).compactMap {
            scalar(
                Field(value: $0.value, line: $0.value.line ?? field.line), at: $0.path,
                numbers: numbers)
        }
    }

    /// A string, or where `numbers` allows it a whole number, as text: `443` and `"443"` are
    /// both `443`. Names, addresses and reasons are strings only, as the schema says.
    private mutating func scalar(_ field: Field, at path: String, numbers: Bool = false)
        -> Written<String>?
    {
        let line = field.value.line ?? field.line
        switch field.value.kind {
        case .string(let text): return Written(text, at: path, line: line)
        case .int(let number) where numbers: return Written(String(number), at: path, line: line)
        default:
            typeError(
                field.value, at: path, expected: numbers ? "a string or number" : "a string",
                line: line)
            return nil
        }
    }

    private mutating func bool(_ field: Field, at path: String) -> Written<Bool>? {
        let line = field.value.line ?? field.line
        guard case .bool(let value) = field.value.kind else {
            typeError(field.value, at: path, expected: "true or false", line: line)
            return nil
        }
        return Written(value, at: path, line: line)
    }

    private mutating func typeError(
        _ value: YAMLValue, at path: String, expected: String, line: Int? = nil
    ) {
        error(
            "invalid value for '\(path)': expected \(expected), found \(Self.describe(value))",
            line: value.line ?? line)
    }

    private mutating func error(_ message: String, hint: String? = nil, line: Int?) {
        diagnostics.append(Diagnostic(.error, message, hint: hint, line: line))
    }

    /// What a value is, in messages: `a list`, `'abc'`, `443`.
    private static func describe(_ value: YAMLValue) -> String {
        switch value.kind {
        case .null: "nothing"
        case .bool(let flag): "\(flag)"
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        case .string(let text): "'\(text)'"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}
