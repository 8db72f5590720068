import TopologyModel

/// A Kubernetes label selector: `matchLabels` and `matchExpressions`, all of which must hold.
/// `matchLabels` entries are `In` requirements with one value, as the API defines them; the
/// empty selector `{}` selects everything.
///
/// For example: `matchLabels: {app.kubernetes.io/name: spacelift-self-hosted}` is one
/// requirement, `app.kubernetes.io/name In (spacelift-self-hosted)`, and prints as
/// `app.kubernetes.io/name=spacelift-self-hosted`.
struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    /// How a requirement tests a label.
    enum Operator: String, Hashable, Sendable {
        /// The label is set to one of the values.
        case `in` = "In"
        /// The label is not set, or set to none of the values.
        case notIn = "NotIn"
        /// The label is set, to any value.
        case exists = "Exists"
        /// The label is not set.
        case doesNotExist = "DoesNotExist"
    }

    /// One requirement on one label key, for example `tier In (web, api)`.
    struct Requirement: Hashable, Sendable {
        /// The label key.
        var key: String
        /// How the label is tested.
        var `operator`: Operator
        /// The values of `In` and `NotIn`; empty for `Exists` and `DoesNotExist`.
        var values: [String]

        /// The values of the label that satisfy the requirement, `nil` standing for "not set".
        var allowed: LabelValues {
            switch self.operator {
            case .in: .only(Set(values.map { Optional($0) }))
            case .notIn: .anyBut(Set(values), unset: true)
            case .exists: .anyBut([], unset: false)
            case .doesNotExist: .only([nil])
            }
        }
    }

    /// The requirements, in the order written; all must hold.
    var requirements: [Requirement]

    /// The empty selector, `{}`: every object.
    static let everything = LabelSelector(requirements: [])

    /// A selector of requirements.
    init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// The selector `matchLabels` alone writes: every label set to its value.
    init(matchLabels labels: [String: String]) {
        requirements = labels.sorted { $0.key < $1.key }.map {
            Requirement(key: $0.key, operator: .in, values: [$0.value])
        }
    }

    /// The keys the selector tests.
    var keys: Set<String> { Set(requirements.map(\.key)) }

    /// The selector as `kubectl` prints one: `k=v,k2 in (a,b),!k3`, or `{}` for the empty one.
    var description: String {
        guard !requirements.isEmpty else { return "{}" }
        return requirements.map { requirement in
            let values = requirement.values.joined(separator: ",")
            switch requirement.operator {
            case .in:
                return requirement.values.count == 1
                    ? "\(requirement.key)=\(values)" : "\(requirement.key) in (\(values))"
            case .notIn: return "\(requirement.key) notin (\(values))"
            case .exists: return requirement.key
            case .doesNotExist: return "!\(requirement.key)"
            }
        }.joined(separator: ",")
    }
}

/// The values one label key may take on the objects of a class, `nil` standing for "the label
/// is not set".
///
/// For example: the server's pods have `app.kubernetes.io/name` exactly
/// `.only(["spacelift-self-hosted"])`; other pods of its namespace have
/// `.anyBut(["spacelift-self-hosted", ...], unset: true)`.
enum LabelValues: Hashable, Sendable {
    /// Exactly these values (`nil`: not set).
    case only(Set<String?>)
    /// Any value but these, and, when `unset`, no value at all.
    case anyBut(Set<String>, unset: Bool)

    /// The values in both.
    func intersection(_ other: LabelValues) -> LabelValues {
        switch (self, other) {
        case (.only(let left), .only(let right)):
            return .only(left.intersection(right))
        case (.only(let values), .anyBut(let excluded, let unset)),
            (.anyBut(let excluded, let unset), .only(let values)):
            return .only(values.filter { $0.map { !excluded.contains($0) } ?? unset })
        case (.anyBut(let left, let leftUnset), .anyBut(let right, let rightUnset)):
            return .anyBut(left.union(right), unset: leftUnset && rightUnset)
        }
    }

    /// Whether no value is left; an `anyBut` set always holds infinitely many strings.
    var isEmpty: Bool {
        if case .only(let values) = self { return values.isEmpty }
        return false
    }
}

/// What topogen knows of the labels of a class of pods or namespaces: the values of the label
/// keys it selects by, and the labels that identify the class.
///
/// The classes stand for real pods whose other labels topogen cannot see. A requirement on a
/// label topogen does not know holds for a class without an identity (other pods, every pod of
/// a pool namespace selected whole, pods of other namespaces: some of them may carry it), and
/// for a class with an identity only when the selector also names one of its identifying
/// labels: a Helm-style `app.kubernetes.io/name: spacelift-self-hosted,
/// app.kubernetes.io/instance: spacelift` selects the server's pods, and `app: web` alone does
/// not.
///
/// For example: the server's pods are known by `app.kubernetes.io/name=spacelift-self-hosted`;
/// namespace `spacelift` by `kubernetes.io/metadata.name=spacelift`; the pods of a pool
/// labelled `{pool: eu}` by `pool=eu`.
struct LabelDomain: Hashable, Sendable {
    /// The values of the label keys topogen knows, by key.
    var known: [String: LabelValues]
    /// The labels that identify the class, each set to its value on every object of the class;
    /// empty when the class has no identity.
    var identity: [String: String]

    /// Creates a domain.
    init(known: [String: LabelValues], identity: [String: String] = [:]) {
        self.known = known
        self.identity = identity
    }

    /// Whether some objects of the class may match the selector; the reader then takes the
    /// selector to select every object of the class.
    func admits(_ selector: LabelSelector) -> Bool {
        let names = selector.requirements.contains { requirement in
            requirement.operator == .in
                && identity[requirement.key].map(requirement.values.contains) == true
        }
        var byKey: [String: LabelValues] = [:]
        for requirement in selector.requirements {
            guard let values = known[requirement.key] else {
                if !identity.isEmpty && !names { return false }
                continue
            }
            let narrowed = (byKey[requirement.key] ?? values).intersection(requirement.allowed)
            if narrowed.isEmpty { return false }
            byKey[requirement.key] = narrowed
        }
        return true
    }
}

/// A class of pods that the reader treats alike: a named endpoint of ``EndpointSet``.
///
/// For example: `pods of server (spacelift)`, `other pods in spacelift`, `kube-dns pods`,
/// `pods in other namespaces`.
struct PodClass: Hashable, Sendable {
    /// The endpoint name, as reports show it.
    var name: String
    /// The component whose pods these are, if any: the subject of its policies.
    var component: Node?
    /// The namespace, or `nil` for every namespace topogen does not know.
    var namespace: String?
    /// The labels of the namespace.
    var namespaceLabels: LabelDomain
    /// The labels of the pods.
    var labels: LabelDomain
}

/// The finite set of pod classes that stand for every pod of a cluster, for one topology: the
/// components' pods, the pods of every in-cluster worker pool, the cluster DNS pods, the
/// ingress controller's namespace, the pods of every external node that lives in the cluster
/// (`kubernetes.podSelectors`), the other pods of each of those namespaces, and the pods of
/// every other namespace. Selectors are evaluated on these classes; a peer selector becomes the
/// set of their names it selects.
///
/// Each class but the "other pods" ones is identified by labels: the chart's
/// `app.kubernetes.io/name` for server, drain, scheduler and VCS gateway (which only their pods
/// carry), `k8s-app: kube-dns` for the cluster DNS in `kube-system`, a pool's pod labels, an
/// external node's selector labels. Classes of one namespace are taken to be disjoint: a pod of
/// one class carries none of the identifying values of another class of its namespace (the
/// topology file demands that pools sharing a namespace differ on a label). A pool or an
/// external node selected without labels is its whole namespace. Namespaces are known by
/// `kubernetes.io/metadata.name`, which Kubernetes sets on every namespace.
///
/// For example: with the defaults, `namespaceSelector: {matchLabels:
/// {kubernetes.io/metadata.name: kube-system}}` selects `kube-dns pods` and
/// `other pods in kube-system`; an in-cluster Postgres `{app: postgres}` in `databases` is
/// `pods of postgres (databases)` beside `other pods in databases`.
struct PodUniverse: Hashable, Sendable {
    /// The label that names a component's pods in Spacelift's chart.
    static let componentKey = "app.kubernetes.io/name"
    /// The label of the cluster DNS pods.
    static let dnsKey = "k8s-app"
    /// The value of ``dnsKey`` on the cluster DNS pods.
    static let dnsValue = "kube-dns"
    /// The namespace of the cluster DNS pods.
    static let dnsNamespace = "kube-system"
    /// The label Kubernetes sets on every namespace to its name.
    static let namespaceKey = "kubernetes.io/metadata.name"

    /// The classes, components first.
    var classes: [PodClass]
    /// The namespaces topogen knows, in the order their classes are listed.
    var namespaces: [String]
    /// The pod label keys topogen knows pods by: the chart's, the cluster DNS's, and those of
    /// the pools' and external nodes' labels.
    var podKeys: Set<String>

    /// Identified pods of one namespace, before they become a class.
    private struct Group {
        var name: String
        var component: Node?
        var namespace: String
        /// The identifying labels; empty for the whole namespace.
        var labels: [String: String]
    }

    /// The classes of a topology's cluster.
    init(_ topology: Topology) {
        let placement = topology.kubernetes
        let backend = placement.namespace
        var groups: [Group] = []
        for component in topology.components where component.kind == .component {
            if let labels = KubernetesEmitter.componentLabels[component] {
                groups.append(
                    Group(
                        name: "pods of \(component) (\(backend))", component: component,
                        namespace: backend, labels: labels))
            }
        }
        for pool in topology.workerPools where pool.placement == .inNetwork {
            groups.append(
                Group(
                    name: "pods of \(pool.node) (\(pool.namespace))", component: pool.node,
                    namespace: pool.namespace, labels: pool.podLabels))
        }
        groups.append(
            Group(
                name: "kube-dns pods", component: nil, namespace: Self.dnsNamespace,
                labels: [Self.dnsKey: Self.dnsValue]))
        var namespaces: [String] = []
        for group in groups where !namespaces.contains(group.namespace) {
            namespaces.append(group.namespace)
        }
        if let ingress = placement.ingressNamespace, !namespaces.contains(ingress) {
            namespaces.append(ingress)
        }
        // External nodes in the cluster: one class per distinct selector, named by its nodes; a
        // selector without labels in a namespace that has classes selects those.
        var external: [(selector: PodSelector, nodes: [Node])] = []
        for node in topology.nodes {
            guard let selector = placement.podSelectors[node] else { continue }
            if let index = external.firstIndex(where: { $0.selector == selector }) {
                external[index].nodes.append(node)
            } else {
                external.append((selector, [node]))
            }
        }
        for (selector, nodes) in external {
            let known = namespaces.contains(selector.namespace)
            if selector.labels.isEmpty && known { continue }
            let names = nodes.map(\.name).joined(separator: ", ")
            groups.append(
                Group(
                    name: "pods of \(names) (\(selector.namespace))", component: nil,
                    namespace: selector.namespace, labels: selector.labels))
            if !known { namespaces.append(selector.namespace) }
        }
        // Only the components' pods carry the chart's values, wherever other pods are.
        let chartValues = Set(
            groups.compactMap { $0.namespace == backend ? $0.labels[Self.componentKey] : nil })
        var podKeys: Set<String> = [Self.componentKey, Self.dnsKey]
        for group in groups { podKeys.formUnion(group.labels.keys) }
        func named(_ namespace: String) -> LabelDomain {
            LabelDomain(
                known: [Self.namespaceKey: .only([namespace])],
                identity: [Self.namespaceKey: namespace])
        }
        /// The labels of a class of `namespace` identified by `identity` (none: other pods).
        func labels(_ identity: [String: String], in namespace: String?) -> LabelDomain {
            var excluded: [String: Set<String>] = [
                Self.componentKey: chartValues, Self.dnsKey: [Self.dnsValue],
            ]
            for group in groups where group.namespace == namespace {
                for (key, value) in group.labels { excluded[key, default: []].insert(value) }
            }
            var known: [String: LabelValues] = [:]
            for (key, values) in excluded {
                known[key] = identity[key].map { .only([$0]) } ?? .anyBut(values, unset: true)
            }
            return LabelDomain(known: known, identity: identity)
        }
        var classes: [PodClass] = []
        func add(_ group: Group) {
            classes.append(
                PodClass(
                    name: group.name, component: group.component, namespace: group.namespace,
                    namespaceLabels: named(group.namespace),
                    labels: labels(group.labels, in: group.namespace)))
        }
        /// The rest of a namespace, unless a class is the whole of it.
        func addOthers(_ namespace: String, name: String? = nil) {
            guard
                !groups.contains(where: { $0.namespace == namespace && $0.labels.isEmpty })
            else { return }
            classes.append(
                PodClass(
                    name: name ?? "other pods in \(namespace)", component: nil,
                    namespace: namespace, namespaceLabels: named(namespace),
                    labels: labels([:], in: namespace)))
        }
        for group in groups where group.component != nil && group.namespace == backend {
            add(group)
        }
        for group in groups where group.component != nil && group.namespace != backend {
            add(group)
        }
        addOthers(backend)
        for namespace in namespaces where namespace != backend {
            guard groups.contains(where: { $0.namespace == namespace && $0.component != nil })
            else { continue }
            addOthers(namespace)
        }
        for namespace in namespaces {
            let peers = groups.filter { $0.namespace == namespace && $0.component == nil }
            let hasComponents = groups.contains {
                $0.namespace == namespace && $0.component != nil
            }
            guard !peers.isEmpty || (!hasComponents && namespace != backend) else { continue }
            peers.forEach(add)
            if !hasComponents && namespace != backend {
                addOthers(
                    namespace,
                    name: peers.isEmpty && namespace == placement.ingressNamespace
                        ? "pods in \(namespace)" : nil)
            }
        }
        classes.append(
            PodClass(
                name: "pods in other namespaces", component: nil, namespace: nil,
                namespaceLabels: LabelDomain(
                    known: [Self.namespaceKey: .anyBut(Set(namespaces), unset: false)]),
                labels: labels([:], in: nil)))
        self.classes = classes
        self.namespaces = namespaces
        self.podKeys = podKeys
    }

    /// The class of a component's pods.
    func pods(of component: Node) -> PodClass? {
        classes.first { $0.component == component }
    }

    /// The classes a peer selects, as the API defines a peer: with a namespace selector, the
    /// pods of the namespaces it selects (every pod without a pod selector); without one, the
    /// pods of `namespace`, the policy's own.
    ///
    /// - Parameters:
    ///   - namespaceSelector: The peer's `namespaceSelector`, if any.
    ///   - podSelector: The peer's `podSelector`, if any.
    ///   - namespace: The namespace of the policy.
    /// - Returns: The classes, in the universe's order.
    func select(
        namespaceSelector: LabelSelector?, podSelector: LabelSelector?, in namespace: String
    ) -> [PodClass] {
        classes.filter { pods in
            let namespaceMatches =
                if let namespaceSelector {
                    pods.namespaceLabels.admits(namespaceSelector)
                } else {
                    pods.namespace == namespace
                        || (pods.namespace == nil && !namespaces.contains(namespace))
                }
            return namespaceMatches && (podSelector.map(pods.labels.admits) ?? true)
        }
    }

    /// The endpoints of the classes a peer selects.
    func endpoints(
        namespaceSelector: LabelSelector?, podSelector: LabelSelector?, in namespace: String
    ) -> EndpointSet {
        EndpointSet(
            names: select(
                namespaceSelector: namespaceSelector, podSelector: podSelector, in: namespace
            ).map(\.name))
    }

    /// The components whose pods a policy's `podSelector` selects in `namespace`.
    func components(selectedBy selector: LabelSelector, in namespace: String) -> [Node] {
        classes.compactMap { pods in
            guard let component = pods.component, pods.namespace == namespace,
                pods.labels.admits(selector)
            else { return nil }
            return component
        }
    }

    /// The keys a selector tests that topogen does not know pods (or namespaces) by.
    func unknownKeys(of selector: LabelSelector, namespaces: Bool) -> [String] {
        let known: Set<String> = namespaces ? [Self.namespaceKey] : podKeys
        return selector.requirements.map(\.key).filter { !known.contains($0) }
    }
}
