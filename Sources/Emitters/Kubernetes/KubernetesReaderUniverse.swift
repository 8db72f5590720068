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
/// keys it selects by, and which of them identifies the class.
///
/// The classes stand for real pods whose other labels topogen cannot see. A requirement on a
/// label topogen does not know holds for a class without an identity (other pods, every pod of
/// the worker namespace, pods of other namespaces: some of them may carry it), and for a class
/// with an identity only when the selector also names that identity: a Helm-style
/// `app.kubernetes.io/name: spacelift-self-hosted, app.kubernetes.io/instance: spacelift`
/// selects the server's pods, and `app: web` alone does not.
///
/// For example: the server's pods are known by `app.kubernetes.io/name=spacelift-self-hosted`;
/// namespace `spacelift` by `kubernetes.io/metadata.name=spacelift`.
struct LabelDomain: Hashable, Sendable {
    /// A label that identifies a class, for example `app.kubernetes.io/name=spacelift-self-hosted`.
    struct Identity: Hashable, Sendable {
        /// The label key.
        var key: String
        /// Its value on every object of the class, and on no other.
        var value: String
    }

    /// The values of the label keys topogen knows, by key.
    var known: [String: LabelValues]
    /// The label that identifies the class, if it has one.
    var identity: Identity?

    /// Creates a domain.
    init(known: [String: LabelValues], identity: Identity? = nil) {
        self.known = known
        self.identity = identity
    }

    /// Whether some objects of the class may match the selector; the reader then takes the
    /// selector to select every object of the class.
    func admits(_ selector: LabelSelector) -> Bool {
        var names = false
        if let identity {
            names = selector.requirements.contains {
                $0.key == identity.key && $0.operator == .in && $0.values.contains(identity.value)
            }
        }
        var byKey: [String: LabelValues] = [:]
        for requirement in selector.requirements {
            guard let values = known[requirement.key] else {
                if identity != nil && !names { return false }
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
/// components' pods, the cluster DNS pods, the ingress controller's namespace, the other pods of
/// each of those namespaces, and the pods of every other namespace. Selectors are evaluated on
/// these classes; a peer selector becomes the set of their names it selects.
///
/// Pods are known by `app.kubernetes.io/name` (the chart's labels of server, drain and scheduler,
/// which only their pods carry) and `k8s-app: kube-dns` (only the cluster DNS pods in
/// `kube-system`); namespaces by `kubernetes.io/metadata.name`, which Kubernetes sets on every
/// namespace. The worker is every pod of the worker namespace, as the emitter selects it.
///
/// For example: with the defaults, `namespaceSelector: {matchLabels:
/// {kubernetes.io/metadata.name: kube-system}}` selects `kube-dns pods` and
/// `other pods in kube-system`.
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

    /// The classes of a topology's cluster.
    init(_ topology: Topology) {
        let placement = topology.kubernetes
        let componentLabels = KubernetesEmitter.componentLabels
        let componentValues = Set(componentLabels.values.compactMap { $0[Self.componentKey] })
        let notComponent = LabelValues.anyBut(componentValues, unset: true)
        let notDNS = LabelValues.anyBut([Self.dnsValue], unset: true)
        let plain = LabelDomain(known: [Self.componentKey: notComponent, Self.dnsKey: notDNS])
        var namespaces = [placement.namespace]
        let pools = topology.workerPools.filter { $0.placement == .inNetwork }
        for pool in pools where !namespaces.contains(pool.namespace) {
            namespaces.append(pool.namespace)
        }
        namespaces.append(Self.dnsNamespace)
        if let ingress = placement.ingressNamespace, !namespaces.contains(ingress) {
            namespaces.append(ingress)
        }
        func named(_ namespace: String) -> LabelDomain {
            LabelDomain(
                known: [Self.namespaceKey: .only([namespace])],
                identity: .init(key: Self.namespaceKey, value: namespace))
        }
        var classes: [PodClass] = []
        for component in [Node.server, .drain, .scheduler] {
            guard let value = componentLabels[component]?[Self.componentKey] else { continue }
            classes.append(
                PodClass(
                    name: "pods of \(component) (\(placement.namespace))", component: component,
                    namespace: placement.namespace, namespaceLabels: named(placement.namespace),
                    labels: LabelDomain(
                        known: [Self.componentKey: .only([value]), Self.dnsKey: notDNS],
                        identity: .init(key: Self.componentKey, value: value))))
        }
        for pool in pools {
            classes.append(
                PodClass(
                    name: "pods of \(pool.node) (\(pool.namespace))", component: pool.node,
                    namespace: pool.namespace, namespaceLabels: named(pool.namespace),
                    labels: plain))
        }
        classes.append(
            PodClass(
                name: "other pods in \(placement.namespace)", component: nil,
                namespace: placement.namespace, namespaceLabels: named(placement.namespace),
                labels: plain))
        classes.append(
            PodClass(
                name: "kube-dns pods", component: nil, namespace: Self.dnsNamespace,
                namespaceLabels: named(Self.dnsNamespace),
                labels: LabelDomain(
                    known: [Self.dnsKey: .only([Self.dnsValue]), Self.componentKey: notComponent],
                    identity: .init(key: Self.dnsKey, value: Self.dnsValue))))
        classes.append(
            PodClass(
                name: "other pods in \(Self.dnsNamespace)", component: nil,
                namespace: Self.dnsNamespace, namespaceLabels: named(Self.dnsNamespace),
                labels: plain))
        if let ingress = placement.ingressNamespace, ingress != Self.dnsNamespace {
            classes.append(
                PodClass(
                    name: "pods in \(ingress)", component: nil, namespace: ingress,
                    namespaceLabels: named(ingress), labels: plain))
        }
        classes.append(
            PodClass(
                name: "pods in other namespaces", component: nil, namespace: nil,
                namespaceLabels: LabelDomain(
                    known: [Self.namespaceKey: .anyBut(Set(namespaces), unset: false)]),
                labels: plain))
        self.classes = classes
        self.namespaces = namespaces
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
    static func unknownKeys(of selector: LabelSelector, namespaces: Bool) -> [String] {
        let known: Set<String> = namespaces ? [namespaceKey] : [componentKey, dnsKey]
        return selector.requirements.map(\.key).filter { !known.contains($0) }
    }
}
