import TopologyModel

/// Where a value of a manifest is: the file, the line (YAML) and the path from the document's
/// root (JSON, which has no lines once decoded).
///
/// For example: the second ingress rule of the fourth item of `kubectl get networkpolicy -A -o
/// json` output is `live.json: items[3].spec.ingress[1]`.
struct ManifestPlace: Hashable, Sendable {
    /// The file, as the user named it.
    var file: String
    /// The line, for YAML input.
    var line: Int?
    /// The path from the document's root, for example `items[3].spec`.
    var path: String
    /// Whether the input is JSON: locations then name the path rather than a line.
    var isJSON: Bool

    /// The place of a mapping entry's value.
    func key(_ key: String, _ value: YAMLValue?) -> ManifestPlace {
        ManifestPlace(
            file: file, line: value?.line ?? line, path: path.isEmpty ? key : "\(path).\(key)",
            isJSON: isJSON)
    }

    /// The place of a sequence item.
    func index(_ index: Int, _ value: YAMLValue) -> ManifestPlace {
        ManifestPlace(
            file: file, line: value.line ?? line, path: "\(path)[\(index)]", isJSON: isJSON)
    }

    /// The location reports show: `file:line` for YAML, `file: path` for JSON.
    var location: SourceLocation {
        isJSON
            ? SourceLocation(file: file, path: path.isEmpty ? nil : path)
            : SourceLocation(file: file, line: line)
    }
}

/// Something a policy holds that the reader reports only when it matters: when the policy
/// selects a component's pods for the direction (``direction``), or for any direction when
/// ``direction`` is `nil` and the policy is in a component's namespace.
///
/// For example: a named port in the ingress rules of a policy that selects the server is an
/// unreadable finding for `server ingress`; the same port in a policy of the monitoring pods
/// is nothing the diff needs.
struct PolicyNote: Hashable, Sendable {
    /// Whether the note is an unreadable construct or a warning.
    var isUnreadable: Bool
    /// Where it is.
    var place: ManifestPlace
    /// The message, in the project's style.
    var message: String
    /// The direction whose rules hold it; `nil` for the policy as a whole.
    var direction: Subject.Direction?
    /// The label key a warning is about, so that one key is warned about once.
    var labelKey: String?
    /// What to do about it, if anything.
    var hint: String?
}

/// One `ingress` or `egress` rule of a policy as the reader understood it.
///
/// For example: `- to: [{ipBlock: {cidr: 10.0.0.0/8}}]` with `ports: [{protocol: TCP, port:
/// 5432}]` has the peer `10.0.0.0/8` and one service, `tcp 5432`.
struct ReadRule: Hashable, Sendable {
    /// The rule's position in its list.
    var index: Int
    /// Where the rule starts.
    var place: ManifestPlace
    /// The peers it admits: `.everything` without `from` or `to`.
    var peer: EndpointSet
    /// The protocols and ports it admits, one entry per protocol; all protocols and ports
    /// without `ports`. Empty when no port could be read: the rule then admits nothing the
    /// reader can compare.
    var services: [Service]

    /// Protocols and destination ports.
    struct Service: Hashable, Sendable {
        /// The protocols.
        var protocols: ProtocolSet
        /// The ports.
        var ports: IntervalSet<UInt16>
    }
}

/// A `networking.k8s.io/v1` NetworkPolicy as the reader understood it: where it applies, which
/// directions it isolates, its rules, and what it could not read.
///
/// For example: topogen's `spacelift-default-deny` reads as namespace `spacelift`, selector
/// `{}`, isolating ingress and egress, with no rules.
struct ReadPolicy: Hashable, Sendable {
    /// `metadata.name`.
    var name: String
    /// `metadata.namespace`, or the namespace assumed for it.
    var namespace: String
    /// Where the policy starts.
    var place: ManifestPlace
    /// `spec.podSelector`; `nil` when it could not be read, and the policy then selects nothing
    /// the reader can tell.
    var podSelector: LabelSelector?
    /// The directions the policy isolates: `policyTypes`, or its default (ingress always,
    /// egress when the policy has egress rules).
    var directions: [Subject.Direction]
    /// The ingress rules.
    var ingress: [ReadRule]
    /// The egress rules.
    var egress: [ReadRule]
    /// What could not be read, and warnings, reported when they matter.
    var notes: [PolicyNote]

    /// The rules of one direction.
    func rules(_ direction: Subject.Direction) -> [ReadRule] {
        direction == .ingress ? ingress : egress
    }
}

/// Turns the YAML (or JSON) value of one NetworkPolicy into a ``ReadPolicy``, evaluating its
/// peers on the pod classes of a ``PodUniverse``.
///
/// What the API server would refuse (a port out of range, an unknown protocol, `ipBlock`
/// combined with a selector, a malformed CIDR) and what the reader cannot know (named ports,
/// which name container ports of pods topogen does not see) become unreadable notes; the rest of
/// the rule is still read. Unknown fields are ignored, as they do not change what is allowed.
struct NetworkPolicyReading {
    /// The pod classes peers are evaluated on.
    var universe: PodUniverse
    /// The namespace assumed for a policy without `metadata.namespace`.
    var defaultNamespace: String

    /// Reads one policy object.
    ///
    /// - Parameters:
    ///   - object: The object, a mapping with `kind: NetworkPolicy`.
    ///   - place: Where it is.
    ///   - namespaceMissing: Set when the object has no namespace and ``defaultNamespace`` was
    ///     assumed.
    /// - Returns: The policy, with notes on what could not be read.
    func policy(_ object: YAMLValue, at place: ManifestPlace, namespaceMissing: inout Bool)
        -> ReadPolicy
    {
        var notes: [PolicyNote] = []
        let metadata = object["metadata"]
        let name = metadata?["name"]?.string ?? "NetworkPolicy at \(place.location)"
        var namespace = defaultNamespace
        if let written = metadata?["namespace"]?.string, !written.isEmpty {
            namespace = written
        } else {
            namespaceMissing = true
        }
        let specPlace = place.key("spec", object["spec"])
        let spec = object["spec"] ?? YAMLValue(.mapping([]))
        if !(spec.mapping != nil || spec.isNull) {
            notes.append(
                unreadable(specPlace, "'spec' is not a mapping; the policy is not compared"))
            return ReadPolicy(
                name: name, namespace: namespace, place: place, podSelector: nil, directions: [],
                ingress: [], egress: [], notes: notes)
        }
        var podSelector: LabelSelector? = .everything
        if let value = spec["podSelector"], !value.isNull {
            let selectorPlace = specPlace.key("podSelector", value)
            podSelector = selector(value, at: selectorPlace, forPods: true, notes: &notes)
            if podSelector == nil {
                notes.append(
                    unreadable(
                        selectorPlace,
                        "the policy's 'podSelector' cannot be read; the policy is not compared"))
            }
        }
        var directions: [Subject.Direction] = []
        let typesValue = spec["policyTypes"]
        let types = typesValue?.sequence ?? []
        if let typesValue, !typesValue.isNull, typesValue.sequence == nil {
            notes.append(
                unreadable(
                    specPlace.key("policyTypes", typesValue),
                    "'policyTypes' is not a list; the policy is not compared"))
            podSelector = nil
        }
        for (index, type) in types.enumerated() {
            switch type.string {
            case "Ingress": directions.append(.ingress)
            case "Egress": directions.append(.egress)
            default:
                notes.append(
                    unreadable(
                        specPlace.key("policyTypes", typesValue).index(index, type),
                        "'\(Self.text(type))' is not a policy type (Ingress, Egress); the policy is not compared"
                    ))
                podSelector = nil
            }
        }
        let egressItems = spec["egress"]?.sequence ?? []
        if types.isEmpty {
            directions = [.ingress]
            if !egressItems.isEmpty { directions.append(.egress) }
        }
        var ingress: [ReadRule] = []
        var egress: [ReadRule] = []
        for direction in [Subject.Direction.ingress, .egress] {
            let key = direction == .ingress ? "ingress" : "egress"
            guard let list = spec[key], !list.isNull else { continue }
            let listPlace = specPlace.key(key, list)
            guard let items = list.sequence else {
                notes.append(
                    unreadable(
                        listPlace, "'\(key)' is not a list; these rules are not compared",
                        direction))
                continue
            }
            for (index, item) in items.enumerated() {
                let read = rule(
                    item, index: index, at: listPlace.index(index, item), direction: direction,
                    namespace: namespace, notes: &notes)
                if direction == .ingress { ingress.append(read) } else { egress.append(read) }
            }
        }
        return ReadPolicy(
            name: name, namespace: namespace, place: place, podSelector: podSelector,
            directions: directions, ingress: ingress, egress: egress, notes: notes)
    }

    /// Reads one rule: its peers (`from` or `to`) and its ports.
    private func rule(
        _ item: YAMLValue, index: Int, at place: ManifestPlace, direction: Subject.Direction,
        namespace: String, notes: inout [PolicyNote]
    ) -> ReadRule {
        // An empty item reads as the zero rule, as Kubernetes decodes it: every peer, every port.
        guard item.mapping != nil || item.isNull else {
            notes.append(
                unreadable(place, "the rule is not a mapping; it is not compared", direction))
            return ReadRule(index: index, place: place, peer: .nothing, services: [])
        }
        let peerKey = direction == .ingress ? "from" : "to"
        var peer = EndpointSet.everything
        if let list = item[peerKey], !list.isNull {
            let listPlace = place.key(peerKey, list)
            if let peers = list.sequence {
                if !peers.isEmpty {
                    peer = .nothing
                    for (index, value) in peers.enumerated() {
                        if let endpoints = self.peer(
                            value, at: listPlace.index(index, value), direction: direction,
                            namespace: namespace, notes: &notes)
                        {
                            peer = peer.union(endpoints)
                        }
                    }
                }
            } else {
                notes.append(
                    unreadable(
                        listPlace, "'\(peerKey)' is not a list; the rule is not compared",
                        direction))
                peer = .nothing
            }
        }
        var services = [ReadRule.Service(protocols: .all, ports: .full)]
        if let list = item["ports"], !list.isNull {
            let listPlace = place.key("ports", list)
            if let ports = list.sequence {
                if !ports.isEmpty {
                    var byProtocol: [(ProtocolSet, IntervalSet<UInt16>)] = []
                    for (index, value) in ports.enumerated() {
                        guard
                            let (protocols, range) = port(
                                value, at: listPlace.index(index, value), direction: direction,
                                notes: &notes)
                        else { continue }
                        if let existing = byProtocol.firstIndex(where: { $0.0 == protocols }) {
                            byProtocol[existing].1 = byProtocol[existing].1.union(range)
                        } else {
                            byProtocol.append((protocols, range))
                        }
                    }
                    // Protocols on the same ports are one service: `53/TCP` and `53/UDP` allow
                    // `tcp, udp 53`.
                    services = []
                    for (protocols, ports) in byProtocol {
                        if let same = services.firstIndex(where: { $0.ports == ports }) {
                            services[same].protocols = services[same].protocols.union(protocols)
                        } else {
                            services.append(ReadRule.Service(protocols: protocols, ports: ports))
                        }
                    }
                }
            } else {
                notes.append(
                    unreadable(
                        listPlace, "'ports' is not a list; the rule is not compared", direction))
                services = []
            }
        }
        return ReadRule(index: index, place: place, peer: peer, services: services)
    }

    /// Reads one peer; `nil` when it cannot be read (a note says why).
    private func peer(
        _ value: YAMLValue, at place: ManifestPlace, direction: Subject.Direction,
        namespace: String, notes: inout [PolicyNote]
    ) -> EndpointSet? {
        guard value.mapping != nil else {
            notes.append(
                unreadable(place, "the peer is not a mapping; it is not compared", direction))
            return nil
        }
        let present = { (key: String) -> YAMLValue? in
            guard let found = value[key], !found.isNull else { return nil }
            return found
        }
        let block = present("ipBlock")
        let namespaces = present("namespaceSelector")
        let pods = present("podSelector")
        if let block {
            guard namespaces == nil && pods == nil else {
                notes.append(
                    unreadable(
                        place,
                        "'ipBlock' cannot be combined with 'podSelector' or 'namespaceSelector' (the API server refuses it); the peer is not compared",
                        direction))
                return nil
            }
            return ipBlock(
                block, at: place.key("ipBlock", block), direction: direction, notes: &notes)
        }
        guard namespaces != nil || pods != nil else {
            notes.append(
                unreadable(
                    place,
                    "the peer names no 'podSelector', 'namespaceSelector' or 'ipBlock'; it is not compared",
                    direction))
            return nil
        }
        var namespaceSelector: LabelSelector?
        var podSelector: LabelSelector?
        if let namespaces {
            namespaceSelector = selector(
                namespaces, at: place.key("namespaceSelector", namespaces), forPods: false,
                notes: &notes, direction: direction)
            guard namespaceSelector != nil else { return nil }
        }
        if let pods {
            podSelector = selector(
                pods, at: place.key("podSelector", pods), forPods: true, notes: &notes,
                direction: direction)
            guard podSelector != nil else { return nil }
        }
        return universe.endpoints(
            namespaceSelector: namespaceSelector, podSelector: podSelector, in: namespace)
    }

    /// Reads an `ipBlock`: its CIDR without its exceptions.
    private func ipBlock(
        _ value: YAMLValue, at place: ManifestPlace, direction: Subject.Direction,
        notes: inout [PolicyNote]
    ) -> EndpointSet? {
        guard let text = value["cidr"]?.string else {
            notes.append(
                unreadable(
                    place, "the 'ipBlock' has no 'cidr'; the peer is not compared", direction))
            return nil
        }
        guard let cidr = Self.cidr(text) else {
            notes.append(
                unreadable(
                    place.key("cidr", value["cidr"]),
                    "'\(text)' is not a CIDR; the peer is not compared", direction))
            return nil
        }
        var set = EndpointSet(cidrs: [cidr])
        let exceptions = value["except"]
        for (index, item) in (exceptions?.sequence ?? []).enumerated() {
            let itemPlace = place.key("except", exceptions).index(index, item)
            guard let text = item.string, let excluded = Self.cidr(text) else {
                notes.append(
                    unreadable(
                        itemPlace,
                        "'\(Self.text(item))' is not a CIDR; the peer is not compared", direction))
                return nil
            }
            guard cidr.contains(excluded), excluded != cidr else {
                notes.append(
                    unreadable(
                        itemPlace,
                        "'except: \(text)' is not inside 'cidr: \(cidr)' (the API server refuses it); the peer is not compared",
                        direction))
                return nil
            }
            set = set.subtracting(EndpointSet(cidrs: [excluded]))
        }
        return set
    }

    /// Reads one `ports` item: a protocol and a range of ports; `nil` when it cannot be read.
    private func port(
        _ value: YAMLValue, at place: ManifestPlace, direction: Subject.Direction,
        notes: inout [PolicyNote]
    ) -> (ProtocolSet, IntervalSet<UInt16>)? {
        guard value.mapping != nil || value.isNull else {
            notes.append(
                unreadable(place, "the port is not a mapping; it is not compared", direction))
            return nil
        }
        var protocols = ProtocolSet.tcp
        if let written = value["protocol"], !written.isNull {
            switch written.string {
            case "TCP": protocols = .tcp
            case "UDP": protocols = .udp
            case "SCTP": protocols = .sctp
            default:
                notes.append(
                    unreadable(
                        place.key("protocol", written),
                        "'\(Self.text(written))' is not a protocol Kubernetes accepts (TCP, UDP, SCTP); this port is not compared",
                        direction))
                return nil
            }
        }
        let portValue = value["port"].flatMap { $0.isNull ? nil : $0 }
        let endValue = value["endPort"].flatMap { $0.isNull ? nil : $0 }
        guard let portValue else {
            if let endValue {
                notes.append(
                    unreadable(
                        place.key("endPort", endValue),
                        "'endPort' needs a numeric 'port'; this port is not compared", direction))
                return nil
            }
            return (protocols, .full)
        }
        let portPlace = place.key("port", portValue)
        if let name = portValue.string {
            let named = name.contains { $0.isLetter }
            notes.append(
                unreadable(
                    portPlace,
                    named
                        ? "'port: \(name)' is a named port; topogen cannot see the pods' container ports, so this port is not compared"
                        : "'port: \"\(name)\"' is neither a port number nor a port name; this port is not compared",
                    direction))
            return nil
        }
        guard let number = portValue.int, (1...65535).contains(number) else {
            notes.append(
                unreadable(
                    portPlace,
                    "'\(Self.text(portValue))' is not a port (1-65535); this port is not compared",
                    direction))
            return nil
        }
        var upper = number
        if let endValue {
            guard let end = endValue.int, (number...65535).contains(end) else {
                notes.append(
                    unreadable(
                        place.key("endPort", endValue),
                        "'endPort: \(Self.text(endValue))' is not a port from \(number) to 65535; this port is not compared",
                        direction))
                return nil
            }
            upper = end
        }
        return (protocols, IntervalSet([UInt16(number)...UInt16(upper)]))
    }

    /// Reads a label selector; `nil` when it cannot be read (a note says why). Labels topogen
    /// does not select by get a warning.
    func selector(
        _ value: YAMLValue, at place: ManifestPlace, forPods: Bool, notes: inout [PolicyNote],
        direction: Subject.Direction? = nil
    ) -> LabelSelector? {
        guard value.mapping != nil else {
            notes.append(
                unreadable(place, "the selector is not a mapping; it is not compared", direction))
            return nil
        }
        var requirements: [LabelSelector.Requirement] = []
        if let labels = value["matchLabels"], !labels.isNull {
            guard let entries = labels.mapping else {
                notes.append(
                    unreadable(
                        place.key("matchLabels", labels),
                        "'matchLabels' is not a mapping; the selector is not compared", direction))
                return nil
            }
            for entry in entries {
                guard let text = entry.value.string else {
                    notes.append(
                        unreadable(
                            place.key("matchLabels", labels).key(entry.key, entry.value),
                            "the label value '\(Self.text(entry.value))' of '\(entry.key)' is not a string (quote it); the selector is not compared",
                            direction))
                    return nil
                }
                requirements.append(.init(key: entry.key, operator: .in, values: [text]))
            }
        }
        if let expressions = value["matchExpressions"], !expressions.isNull {
            let listPlace = place.key("matchExpressions", expressions)
            guard let items = expressions.sequence else {
                notes.append(
                    unreadable(
                        listPlace,
                        "'matchExpressions' is not a list; the selector is not compared",
                        direction))
                return nil
            }
            for (index, item) in items.enumerated() {
                let itemPlace = listPlace.index(index, item)
                guard let requirement = expression(item) else {
                    notes.append(
                        unreadable(
                            itemPlace,
                            "the expression '\(Self.text(item))' is not a requirement Kubernetes accepts (key, operator In, NotIn, Exists or DoesNotExist, and values for In and NotIn only); the selector is not compared",
                            direction))
                    return nil
                }
                requirements.append(requirement)
            }
        }
        let selector = LabelSelector(requirements: requirements)
        for key in universe.unknownKeys(of: selector, namespaces: !forPods) {
            let message =
                forPods
                ? "'\(key)' is not a label topogen knows pods by: a selector that needs it selects a component's pods only when it also names them by '\(PodUniverse.componentKey)', and may select any other pod"
                : "'\(key)' is not a label topogen knows namespaces by: a selector that needs it selects a namespace of the installation only when it also names it by '\(PodUniverse.namespaceKey)', and may select any other namespace"
            let hint =
                forPods
                ? "topogen knows the components' pods by '\(PodUniverse.componentKey)' (Spacelift's chart) and the cluster DNS by '\(PodUniverse.dnsKey): \(PodUniverse.dnsValue)'"
                : "Kubernetes sets '\(PodUniverse.namespaceKey)' on every namespace; select namespaces by it"
            notes.append(
                PolicyNote(
                    isUnreadable: false, place: place, message: message, direction: direction,
                    labelKey: key, hint: hint))
        }
        return selector
    }

    /// One `matchExpressions` item, if valid.
    private func expression(_ item: YAMLValue) -> LabelSelector.Requirement? {
        guard let key = item["key"]?.string, !key.isEmpty,
            let name = item["operator"]?.string,
            let op = LabelSelector.Operator(rawValue: name)
        else { return nil }
        let written = item["values"].flatMap { $0.isNull ? nil : $0 }
        var values: [String] = []
        if let written {
            guard let items = written.sequence else { return nil }
            for value in items {
                guard let text = value.string else { return nil }
                values.append(text)
            }
        }
        switch op {
        case .in, .notIn: guard !values.isEmpty else { return nil }
        case .exists, .doesNotExist: guard values.isEmpty else { return nil }
        }
        return LabelSelector.Requirement(key: key, operator: op, values: values)
    }

    /// A note that a construct cannot be read.
    private func unreadable(
        _ place: ManifestPlace, _ message: String, _ direction: Subject.Direction? = nil
    ) -> PolicyNote {
        PolicyNote(isUnreadable: true, place: place, message: message, direction: direction)
    }

    /// A CIDR as the API server accepts one: `ADDRESS/PREFIX`, host bits allowed (they are
    /// ignored, as by the API server's own parsing).
    static func cidr(_ text: String) -> CIDR? {
        guard text.contains("/") else { return nil }
        do {
            return try CIDR(parsing: text)
        } catch {
            if case .hostBitsSet(_, let network) = error { return network }
            return nil
        }
    }

    /// A scalar as written, for messages.
    static func text(_ value: YAMLValue) -> String {
        switch value.kind {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        case .string(let text): text
        case .sequence: "a list"
        case .mapping(let entries):
            "{" + entries.map { "\($0.key): \(text($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
