import TopologyModel

/// A `networking.k8s.io/v1` NetworkPolicy: the structured value the Kubernetes emitter builds
/// from flows before it writes any text.
///
/// For example, the server's policy renders as:
///
/// ```yaml
/// apiVersion: networking.k8s.io/v1
/// kind: NetworkPolicy
/// metadata:
///   name: spacelift-server
///   namespace: spacelift
///   ...
/// spec:
///   podSelector:
///     matchLabels:
///       app.kubernetes.io/name: spacelift-self-hosted
///   policyTypes:
///     - Ingress
///     - Egress
///   ingress:
///     # lb-server-http: Server ingress HTTP 1983
///     - ports:
///         - protocol: TCP
///           port: 1983
/// ```
struct NetworkPolicy: Hashable, Sendable {
    var name: String
    var namespace: String
    /// The comment lines written above the document.
    var comments: [String]
    var labels: [String: String]
    var annotations: [String: String]
    /// The pods the policy applies to: labels to match, or every pod of the namespace when empty.
    var podSelector: [String: String]
    var ingress: [NetworkPolicyRule]
    var egress: [NetworkPolicyRule]
}

/// One ingress or egress rule: traffic with any of the peers on any of the ports.
///
/// For example: `# server-postgres: Server egress Postgres`, then `- to: [ipBlock 0.0.0.0/0,
/// ipBlock ::/0]` with `ports: [TCP 5432]`.
struct NetworkPolicyRule: Hashable, Sendable {
    /// The comment above the rule: the flows it implements and why.
    var comments: [String]
    /// The peers; `nil` means every source or destination (the rule has no `from` or `to`).
    var peers: [NetworkPolicyPeer]?
    var ports: [Port]
}

/// A peer of a rule: pods selected by namespace and labels, or addresses.
enum NetworkPolicyPeer: Hashable, Sendable {
    /// The pods of a namespace matching the labels (every pod when `pods` is empty).
    case pods(namespace: String, labels: [String: String])
    /// The addresses of a network, for example `ipBlock: {cidr: 10.0.0.0/16}`.
    case ipBlock(CIDR)
}

extension NetworkPolicy {
    /// The policy as a YAML document.
    var yaml: YAMLNode {
        var spec: [YAMLEntry] = [
            YAMLEntry(key: "podSelector", value: Self.selector(podSelector)),
            YAMLEntry(key: "policyTypes", value: .list([.string("Ingress"), .string("Egress")])),
        ]
        if !ingress.isEmpty {
            spec.append(YAMLEntry(key: "ingress", value: Self.rules(ingress, peerKey: "from")))
        }
        if !egress.isEmpty {
            spec.append(YAMLEntry(key: "egress", value: Self.rules(egress, peerKey: "to")))
        }
        var metadata: [YAMLEntry] = [
            YAMLEntry(key: "name", value: .string(name)),
            YAMLEntry(key: "namespace", value: .string(namespace)),
            YAMLEntry(key: "labels", value: .labels(labels)),
        ]
        if !annotations.isEmpty {
            metadata.append(YAMLEntry(key: "annotations", value: .labels(annotations)))
        }
        return .map([
            "apiVersion": .string("networking.k8s.io/v1"),
            "kind": .string("NetworkPolicy"),
            "metadata": .mapping(metadata),
            "spec": .mapping(spec),
        ])
    }

    private static func selector(_ labels: [String: String]) -> YAMLNode {
        labels.isEmpty ? .mapping([]) : .map(["matchLabels": .labels(labels)])
    }

    private static func rules(_ rules: [NetworkPolicyRule], peerKey: String) -> YAMLNode {
        .sequence(
            rules.map { rule in
                var entries: [YAMLEntry] = []
                if let peers = rule.peers {
                    entries.append(YAMLEntry(key: peerKey, value: .list(peers.map(peer))))
                }
                entries.append(YAMLEntry(key: "ports", value: .list(rule.ports.map(port))))
                return YAMLItem(comments: rule.comments, node: .mapping(entries))
            })
    }

    private static func peer(_ peer: NetworkPolicyPeer) -> YAMLNode {
        switch peer {
        case .pods(let namespace, let labels):
            var entries = [
                YAMLEntry(
                    key: "namespaceSelector",
                    value: .map([
                        "matchLabels": .labels(["kubernetes.io/metadata.name": namespace])
                    ]))
            ]
            if !labels.isEmpty {
                entries.append(YAMLEntry(key: "podSelector", value: selector(labels)))
            }
            return .mapping(entries)
        case .ipBlock(let cidr):
            return .map(["ipBlock": .map(["cidr": .string(cidr.description)])])
        }
    }

    private static func port(_ port: Port) -> YAMLNode {
        var entries = [
            YAMLEntry(key: "protocol", value: .string(port.transport.rawValue.uppercased())),
            YAMLEntry(key: "port", value: .int(Int(port.range.lower))),
        ]
        if !port.range.isSinglePort {
            entries.append(YAMLEntry(key: "endPort", value: .int(Int(port.range.upper))))
        }
        return .mapping(entries)
    }
}
