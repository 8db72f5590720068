import TopologyModel

/// Reads Kubernetes NetworkPolicies back into permissions, for `topogen diff --target k8s`:
/// multi-document YAML manifests as people and Helm write them, and the `List` that
/// `kubectl get networkpolicy -A -o yaml` prints, or `-o json` (JSON is told by a leading `{`).
///
/// **Pods.** Selectors are evaluated on a finite set of pod classes (``PodUniverse``), each a
/// named endpoint: `pods of server (spacelift)`, `pods of drain (spacelift)`,
/// `pods of scheduler (spacelift)`, `pods of vcs-gateway (spacelift)` with the VCS gateway,
/// `pods of worker (spacelift-workers)` for each in-cluster pool (every pod of its namespace
/// when it has no labels), `other pods in spacelift` (and in a pool namespace whose pools have
/// labels), `kube-dns pods`, `other pods in kube-system`, `pods in <ingress-namespace>` with
/// `--ingress-namespace`, `pods of postgres (databases)` and `other pods in databases` for an
/// external node living in the cluster, and `pods in other namespaces`.
/// A selector that matches some pods of a class is taken to select the class; a selector that
/// reaches the "other pods" classes is therefore broader than one naming the components.
/// `ipBlock` peers are addresses only: they select no pods (the API reference calls pod IPs
/// ephemeral, and NCA reads them so too).
///
/// **Semantics** (the NetworkPolicy API): a component's pods are isolated for a direction when
/// a policy of their namespace selects them and has that type (`policyTypes`, by default
/// `Ingress`, plus `Egress` when the policy has egress rules); they are then allowed the union of
/// the rules of those policies: peers (`podSelector`, `namespaceSelector`, both, `ipBlock` with
/// `except`; no `from`/`to` = every peer), ports (`TCP` by default, `UDP`, `SCTP`, a number, an
/// `endPort`; no `ports` = every port and protocol). Pods no policy isolates are unrestricted: one
/// permission allowing everything, whose excerpt says no policy selects them.
///
/// **Subjects** are the components the emitter enforces: server, drain, scheduler, the VCS
/// gateway, and every in-cluster worker pool. Other pods (for example `other pods in
/// spacelift`, which topogen's default deny isolates too) are peers, never subjects; policies
/// in other namespaces are not compared.
///
/// **Inputs.** Objects of other kinds are skipped; a policy kind topogen does not read
/// (`CiliumNetworkPolicy`, Calico's `NetworkPolicy`, `AdminNetworkPolicy`, ...) is unreadable,
/// since it also filters traffic. A policy without `metadata.namespace` is read as in the backend
/// namespace (`--namespace`), as `kubectl apply -n <namespace>` would create it, with a warning.
/// When the same policy is given twice, the later definition is read, as `kubectl apply` leaves
/// it. Named ports (`port: http`) are unreadable: topogen does not know the pods' container
/// ports. Origins are the rule's line (`- from:`, `- to:` or `- ports:`), or its path in JSON
/// (`items[3].spec.ingress[1]`); excerpts read `spacelift-server ingress[1]`.
///
/// For example: topogen's own `networkpolicies.yaml` reads back to exactly
/// ``expectedPermissions(for:options:)``; deleting the `spacelift-drain` policy leaves the drain
/// selected by the default deny alone, so every drain flow is missing.
struct KubernetesReader: RuleReader {
    /// Kinds of objects that filter traffic but that topogen does not read.
    static let otherPolicyKinds: Set<String> = [
        "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy",
        "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy",
    ]

    /// What the model requires: for each component the emitter writes a policy for, each flow's
    /// ports, to or from the pod classes or addresses the emitter's peers select.
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        let universe = PodUniverse(topology)
        var permissions: [Permission] = []
        for entry in KubernetesEmitter().componentFlows(for: topology) {
            for (direction, inputs) in [
                (Subject.Direction.ingress, entry.ingress), (.egress, entry.egress),
            ] {
                let subject = Subject(entry.component, direction)
                for input in inputs {
                    let peer =
                        input.peers.map { peers in
                            peers.reduce(EndpointSet.nothing) {
                                $0.union(Self.endpoints(of: $1, in: entry.namespace, universe))
                            }
                        } ?? .everything
                    for port in input.flow.ports {
                        permissions.append(
                            Permission(input.flow, port: port, subject: subject, peer: peer))
                    }
                }
            }
        }
        return permissions
    }

    /// What the reader reads, for the hints of errors.
    static let inputHint =
        "'--target k8s' reads NetworkPolicy manifests (YAML), and the output of 'kubectl get networkpolicy -A -o yaml' or '-o json'"

    /// The endpoints an emitter's peer selects, evaluated as a deployed peer is.
    static func endpoints(of peer: NetworkPolicyPeer, in namespace: String, _ universe: PodUniverse)
        -> EndpointSet
    {
        switch peer {
        case .ipBlock(let cidr):
            return EndpointSet(cidrs: [cidr])
        case .pods(let podNamespace, let labels):
            return universe.endpoints(
                namespaceSelector: LabelSelector(
                    matchLabels: [PodUniverse.namespaceKey: podNamespace]),
                podSelector: labels.isEmpty ? nil : LabelSelector(matchLabels: labels),
                in: namespace)
        }
    }

    /// Reads the policies of every input.
    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        let universe = PodUniverse(topology)
        let reading = NetworkPolicyReading(
            universe: universe, defaultNamespace: topology.kubernetes.namespace)
        // Policies by namespace and name, in the order first seen; a later definition replaces
        // an earlier one.
        var order: [String] = []
        var byName: [String: ReadPolicy] = [:]
        var unreadable: [Unreadable] = []
        var diagnostics: [Diagnostic] = []
        for input in inputs {
            var unnamespaced: [ReadPolicy] = []
            var found = 0
            for (object, place) in try Self.objects(in: input) {
                let kind = object["kind"]?.string ?? ""
                let apiVersion = object["apiVersion"]?.string ?? ""
                if kind == "NetworkPolicy" && apiVersion == "networking.k8s.io/v1" {
                    found += 1
                    var missing = false
                    let policy = reading.policy(object, at: place, namespaceMissing: &missing)
                    if missing { unnamespaced.append(policy) }
                    let key = "\(policy.namespace)/\(policy.name)"
                    if let earlier = byName[key] {
                        diagnostics.append(
                            Diagnostic(
                                .warning,
                                "\(place.location): NetworkPolicy '\(key)' was also defined at \(earlier.place.location); the later definition is read, as 'kubectl apply' would leave it"
                            ))
                    } else {
                        order.append(key)
                    }
                    byName[key] = policy
                } else if kind == "NetworkPolicy" || Self.otherPolicyKinds.contains(kind) {
                    let name = object["metadata"]?["name"]?.string.map { " '\($0)'" } ?? ""
                    unreadable.append(
                        Unreadable(
                            location: place.location,
                            reason:
                                "'\(apiVersion)' \(kind)\(name) also filters traffic, and topogen reads only 'networking.k8s.io/v1' NetworkPolicies; its rules are not compared"
                        ))
                }
            }
            if found == 0 {
                diagnostics.append(
                    Diagnostic(
                        .warning,
                        "\(input.name): no 'networking.k8s.io/v1' NetworkPolicy in the file"))
            }
            if let first = unnamespaced.first {
                let names = unnamespaced.map { "'\($0.name)'" }.joined(separator: ", ")
                let namespace = topology.kubernetes.namespace
                diagnostics.append(
                    Diagnostic(
                        .warning,
                        "\(first.place.location): \(unnamespaced.count == 1 ? "NetworkPolicy" : "NetworkPolicies") \(names) \(unnamespaced.count == 1 ? "has" : "have") no 'metadata.namespace'; read as in '\(namespace)', where 'kubectl apply -n \(namespace)' would create \(unnamespaced.count == 1 ? "it" : "them")",
                        hint: "write the namespace into the manifest to compare it elsewhere"))
            }
        }
        let policies = order.compactMap { byName[$0] }
        let origin = SourceLocation(file: inputs.map(\.name).joined(separator: ", "))
        var permissions: [Permission] = []
        var reportedNotes: Set<PolicyNote> = []
        var warnedKeys: Set<String> = []
        let componentNamespaces = Set(
            universe.classes.compactMap { $0.component == nil ? nil : $0.namespace })
        for policy in policies where componentNamespaces.contains(policy.namespace) {
            let selected =
                policy.podSelector.map {
                    universe.components(selectedBy: $0, in: policy.namespace)
                } ?? []
            for note in policy.notes {
                let subjects: [Subject?]
                if let direction = note.direction {
                    guard policy.directions.contains(direction) else { continue }
                    subjects = selected.map { Subject($0, direction) }
                } else {
                    subjects =
                        selected.isEmpty
                        ? [nil]
                        : selected.flatMap { component in
                            policy.directions.map { Subject(component, $0) }
                        }
                }
                if subjects.isEmpty { continue }
                if note.isUnreadable {
                    for subject in subjects {
                        unreadable.append(
                            Unreadable(
                                location: note.place.location, reason: note.message,
                                subject: subject))
                    }
                } else if reportedNotes.insert(note).inserted,
                    note.labelKey.map({ warnedKeys.insert($0).inserted }) ?? true
                {
                    diagnostics.append(
                        Diagnostic(
                            .warning, "\(note.place.location): \(note.message)", hint: note.hint))
                }
            }
        }
        for pods in universe.classes {
            guard let component = pods.component else { continue }
            for direction in [Subject.Direction.ingress, .egress] {
                let subject = Subject(component, direction)
                let isolating = policies.filter { policy in
                    policy.namespace == pods.namespace && policy.directions.contains(direction)
                        && policy.podSelector.map(pods.labels.admits) == true
                }
                if isolating.isEmpty {
                    permissions.append(
                        Permission(
                            subject: subject, peer: .everything, protocols: .all, ports: .full,
                            origin: origin,
                            excerpt:
                                "no NetworkPolicy selects \(pods.name) for \(direction.rawValue)"))
                    continue
                }
                for policy in isolating {
                    for rule in policy.rules(direction) {
                        for service in rule.services where !rule.peer.isEmpty {
                            permissions.append(
                                Permission(
                                    subject: subject, peer: rule.peer,
                                    protocols: service.protocols, ports: service.ports,
                                    origin: rule.place.location,
                                    excerpt: "\(policy.name) \(direction.rawValue)[\(rule.index)]"
                                ))
                        }
                    }
                }
            }
        }
        return DeployedRules(
            permissions: permissions, compared: .everything, unreadable: unreadable,
            diagnostics: diagnostics)
    }

    /// The objects of an input, each with its place: the documents of a YAML stream, the items
    /// of a `List`, or a JSON object and its items.
    ///
    /// - Throws: ``ReadError`` when the text is not YAML or JSON, or a document is not a
    ///   Kubernetes object.
    static func objects(in input: InputText) throws(ReadError) -> [(YAMLValue, ManifestPlace)] {
        let isJSON = input.contents.drop { $0.isWhitespace }.first == "{"
        var documents: [YAMLValue]
        do {
            documents =
                isJSON
                ? [try JSONReader.value(input.contents)]
                : try YAMLReader.documents(input.contents)
        } catch {
            throw ReadError(
                SourceLocation(file: input.name, line: error.line), error.message,
                hint: Self.inputHint)
        }
        var objects: [(YAMLValue, ManifestPlace)] = []
        for (index, document) in documents.enumerated() where !document.isNull {
            let place = ManifestPlace(
                file: input.name, line: document.line, path: "", isJSON: isJSON)
            guard document.mapping != nil, let kind = document["kind"]?.string,
                document["apiVersion"]?.string != nil
            else {
                throw ReadError(
                    place.location,
                    "document \(index + 1) is not a Kubernetes object (it has no 'apiVersion' and 'kind')",
                    hint: Self.inputHint)
            }
            guard kind.hasSuffix("List"), let items = document["items"] else {
                objects.append((document, place))
                continue
            }
            let itemsPlace = place.key("items", items)
            guard let list = items.sequence ?? (items.isNull ? [] : nil) else {
                throw ReadError(
                    itemsPlace.location, "the '\(kind)' has 'items' that are not a list")
            }
            for (offset, item) in list.enumerated() {
                let itemPlace = itemsPlace.index(offset, item)
                guard item.mapping != nil, item["kind"]?.string != nil else {
                    throw ReadError(
                        itemPlace.location,
                        "item \(offset + 1) of the '\(kind)' is not a Kubernetes object (it has no 'kind')"
                    )
                }
                objects.append((item, itemPlace))
            }
        }
        return objects
    }
}
