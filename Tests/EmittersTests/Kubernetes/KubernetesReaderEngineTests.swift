import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

private typealias K = KubernetesReaderTesting

/// The Kubernetes reader against a real NetworkPolicy engine: for topogen's policies, mutated
/// ones and a hand-written set, what the reader's permissions allow each component's pods to
/// open and accept must be what network-config-analyzer (NCA) computes for the same files on
/// `k8s_oracle.py`'s cluster fixture, pod by pod and address range by address range, allowed
/// and denied alike (`Tests/Checkers/k8s_diff_oracle.py` prints NCA's connectivity; it knows
/// nothing of the reader). The fixture's pods carry the labels of Spacelift's chart, including
/// `app.kubernetes.io/instance`, which the reader does not know: the check also covers how the
/// reader treats such labels.
///
/// The checker comes from `Scripts/bootstrap.sh`; a missing checker fails these tests.
@Suite struct KubernetesReaderEngineTests {
    /// One policies file to compare.
    struct Case: CustomStringConvertible {
        var name: String
        var text: String
        var description: String { name }
    }

    private static func goldenCases(_ example: String) throws -> [Case] {
        [Case(name: "\(example) golden", text: try K.golden(example))]
    }

    /// The default golden and mutations of it.
    private static func defaultCases() throws -> [Case] {
        let text = try K.golden("default")
        return [
            Case(name: "default golden", text: text),
            Case(
                name: "widened port",
                text: try K.replacing(
                    "- protocol: TCP\n          port: 5432", with: "- protocol: TCP",
                    after: "# scheduler-postgres", in: text)),
            Case(
                name: "no worker policy",
                text: K.removingDocument(containing: "name: spacelift-worker\n", from: text)),
            Case(
                name: "no default deny, no drain policy",
                text: K.removingDocument(
                    containing: "name: spacelift-drain\n",
                    from: K.removingDocument(
                        containing: "name: spacelift-default-deny\n", from: text))),
            Case(
                name: "empty peer selector",
                text: try K.replacing(
                    "          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: spacelift-self-hosted\n",
                    with: "          podSelector: {}\n", after: "# worker-mqtt", in: text)),
            Case(
                name: "server policy for every pod",
                text: try K.replacing(
                    "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: spacelift-self-hosted\n",
                    with: "  podSelector: {}\n", after: "name: spacelift-server", in: text)),
            Case(
                name: "added rule with an exception and a range",
                text: try K.replacing(
                    "    # scheduler-postgres",
                    with:
                        "    - to:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n            except: [10.1.0.0/16]\n        - namespaceSelector: {}\n          podSelector:\n            matchExpressions:\n              - {key: app.kubernetes.io/name, operator: NotIn, values: [spacelift-self-hosted]}\n      ports:\n        - protocol: SCTP\n          port: 9000\n          endPort: 9100\n        - protocol: UDP\n    # scheduler-postgres",
                    after: "name: spacelift-scheduler", in: text)),
        ]
    }

    @Test func readerAgreesWithNCA() throws {
        let handwritten = try K.fixture("handwritten-spacelift.yaml")
        let groups: [(arguments: [String], cases: [Case])] = [
            ([], try Self.defaultCases()),
            (
                try #require(Example.all.first { $0.name == "custom-placement" }).arguments,
                try Self.goldenCases("custom-placement")
            ),
            (
                try #require(Example.all.first { $0.name == "external-workers" }).arguments,
                try Self.goldenCases("external-workers")
            ),
            (
                ["--ingress-namespace", "ingress-nginx", "--cidr", "postgres=10.20.0.0/16"],
                [
                    Case(name: "hand-written", text: handwritten),
                    Case(
                        name: "hand-written, DNS to kube-system, no IPv6",
                        text: try K.replacing(
                            "          podSelector:\n            matchExpressions:\n              - key: k8s-app\n                operator: In\n                values: [kube-dns]\n",
                            with: "", after: "name: run-pods",
                            in: handwritten.replacingOccurrences(
                                of: ", {ipBlock: {cidr: \"::/0\"}}", with: ""))),
                ]
            ),
        ]
        for group in groups {
            try compare(group.cases, arguments: group.arguments)
        }
    }

    /// The shapes of topology files: the rendered policies of each fixture topology and
    /// mutations of them, with NCA reading the same topology from its file.
    @Test func readerAgreesWithNCAOnTopologyFiles() throws {
        let gateway = try KubernetesTopologyTests.render(KubernetesTopologies.k8sGateway)
        let labelled = try KubernetesTopologyTests.render(KubernetesTopologies.labelledPools)
        let aws = try KubernetesTopologyTests.render(KubernetesTopologies.awsTwoPools)
        let fixtures = Repository.root.appendingPathComponent("Tests/Fixtures/topologies")
        try compare(
            [
                Case(name: "k8s-gateway", text: gateway),
                Case(
                    name: "k8s-gateway, postgres by namespace alone",
                    text: try K.replacing(
                        "          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: postgresql\n",
                        with: "", after: "# server-postgres", in: gateway)),
                Case(
                    name: "k8s-gateway, no pool policy",
                    text: K.removingDocument(
                        containing: "name: spacelift-worker-cluster\n", from: gateway)),
            ],
            arguments: [
                "--topology", Repository.examples.appendingPathComponent("k8s-gateway.yaml").path,
            ],
            topology: KubernetesTopologies.k8sGateway)
        try compare(
            [
                Case(name: "labelled pools", text: labelled),
                Case(
                    name: "labelled pools, green for every pod",
                    text: try K.replacing(
                        "  podSelector:\n    matchLabels:\n      spacelift.io/pool: green\n",
                        with: "  podSelector: {}\n", after: "name: spacelift-worker-green",
                        in: labelled)),
                Case(
                    name: "labelled pools, no default deny in runners",
                    text: K.removingDocument(
                        containing: "name: spacelift-default-deny\n  namespace: runners\n",
                        from: labelled)),
            ],
            arguments: [
                "--topology", fixtures.appendingPathComponent("k8s-labelled-pools.yaml").path,
            ],
            topology: KubernetesTopologies.labelledPools)
        try compare(
            [Case(name: "aws-two-pools", text: aws)],
            arguments: [
                "--topology", fixtures.appendingPathComponent("k8s-aws-two-pools.yaml").path,
            ],
            topology: KubernetesTopologies.awsTwoPools)
    }

    /// Runs NCA once on every case of one topology and compares, for each case, what it
    /// computes with what the reader's permissions allow.
    private func compare(_ cases: [Case], arguments: [String], topology: Topology? = nil) throws {
        let topology = try topology ?? ExampleTopology.topology(arguments)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("topogen-k8s-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [URL] = []
        for (index, item) in cases.enumerated() {
            let file = directory.appendingPathComponent("case\(index).yaml")
            try Data(item.text.utf8).write(to: file)
            files.append(file)
        }
        let result = try Command.run(
            try Command.checker("python3"),
            [
                Repository.root.appendingPathComponent("Tests/Checkers/k8s_diff_oracle.py").path,
                "--args=" + arguments.joined(separator: " "),
                "--nca", try Command.checker("nca").path,
            ] + files.flatMap { ["--policies", $0.path] })
        try #require(result.status == 0, "\(result.stderr)")
        let output = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let pods = try #require(output["pods"] as? [[String: Any]])
        let reports = try #require(output["files"] as? [[String: Any]])
        try #require(reports.count == cases.count)
        let classes = try podClasses(pods, topology)
        for (item, report) in zip(cases, reports) {
            let deployed = try K.read([(item.name, item.text)], topology)
            #expect(deployed.unreadable.isEmpty, "\(item.name)")
            var checked = 0
            var mismatches: [String] = []
            for (view, direction) in [("egress", Subject.Direction.egress), ("ingress", .ingress)] {
                let rows = try #require(report[view] as? [[String: Any]])
                for row in rows {
                    let (podEnd, farEnd) = direction == .egress ? ("from", "to") : ("to", "from")
                    guard let pod = row[podEnd] as? String, let node = classes[pod]?.component
                    else { continue }
                    let subject = Subject(node, direction)
                    let peer = try endpoint(row[farEnd], classes)
                    let conns = try #require(row["conns"] as? [String: Any])
                    let nca = try Connections(nca: conns)
                    let reader = Connections(
                        deployed.permissions.filter { $0.subject == subject }, peer: peer)
                    checked += 1
                    if reader != nca {
                        mismatches.append(
                            "\(subject) \(direction == .egress ? "to" : "from") \(peer): reader \(reader), NCA \(nca)"
                        )
                    }
                }
            }
            #expect(checked > 50, "\(item.name): only \(checked) cells")
            #expect(
                mismatches.isEmpty,
                "\(item.name): \(mismatches.count) mismatches:\n\(mismatches.prefix(20).joined(separator: "\n"))"
            )
        }
    }

    /// The pod class each fixture pod belongs to, from its role in the fixture (independent of
    /// the reader's selector evaluation), with its component when it is a subject.
    private func podClasses(_ pods: [[String: Any]], _ topology: Topology) throws -> [String: (
        name: String, component: Node?
    )] {
        let placement = topology.kubernetes
        var classes: [String: (name: String, component: Node?)] = [:]
        for pod in pods {
            let key = try #require(pod["key"] as? String)
            let role = try #require(pod["role"] as? String)
            let namespace = try #require(pod["namespace"] as? String)
            if let pool = topology.workerPools.first(where: { $0.node.name == role }) {
                classes[key] =
                    pool.placement == .inNetwork
                    ? ("pods of \(role) (\(pool.namespace))", pool.node)
                    : ("pods in other namespaces", nil)
                continue
            }
            if placement.podSelectors.keys.contains(where: { $0.name == role }) {
                classes[key] = ("pods of \(role) (\(namespace))", nil)
                continue
            }
            switch role {
            case "server", "drain", "scheduler", "vcs-gateway":
                classes[key] = ("pods of \(role) (\(placement.namespace))", Node(rawValue: role))
            case "misc": classes[key] = ("other pods in \(placement.namespace)", nil)
            case "idle", "bystander": classes[key] = ("other pods in \(namespace)", nil)
            case "kube-dns": classes[key] = ("kube-dns pods", nil)
            case "kube-proxy": classes[key] = ("other pods in kube-system", nil)
            case "ingress":
                classes[key] =
                    placement.ingressNamespace == namespace
                    ? ("pods in \(namespace)", nil) : ("pods in other namespaces", nil)
            case "other": classes[key] = ("pods in other namespaces", nil)
            default: Issue.record("unknown role '\(role)' of \(key)")
            }
        }
        return classes
    }

    private func endpoint(_ value: Any?, _ classes: [String: (name: String, component: Node?)])
        throws -> EndpointSet
    {
        if let pod = value as? String {
            return EndpointSet(names: [try #require(classes[pod]?.name, "no class for \(pod)")])
        }
        let range = try #require(value as? [String: Any])
        let family = try #require(range["family"] as? Int)
        let low = try #require((range["low"] as? String).flatMap { UInt128($0) })
        let high = try #require((range["high"] as? String).flatMap { UInt128($0) })
        if family == 4 {
            return EndpointSet(ipv4: IntervalSet([UInt32(low)...UInt32(high)]))
        }
        return EndpointSet(ipv6: IntervalSet([low...high]))
    }
}

/// What may pass between two endpoints, in NCA's terms: ports of TCP, UDP and SCTP, and whether
/// the protocols without ports pass.
private struct Connections: Equatable, CustomStringConvertible {
    var tcp = IntervalSet<UInt16>.empty
    var udp = IntervalSet<UInt16>.empty
    var sctp = IntervalSet<UInt16>.empty
    var other = false
    /// Whether a permission covers part of the endpoint only: NCA's ranges are cut so that this
    /// cannot be.
    var partial = false

    static let validPorts = IntervalSet<UInt16>([1...65535])

    init(nca: [String: Any]) throws {
        func ports(_ key: String) throws -> IntervalSet<UInt16> {
            let pairs = try #require(nca[key] as? [[Int]])
            return IntervalSet(pairs.map { UInt16($0[0])...UInt16($0[1]) })
        }
        tcp = try ports("TCP")
        udp = try ports("UDP")
        sctp = try ports("SCTP")
        other = try #require(nca["other"] as? Bool)
    }

    /// What the permissions allow to or from `peer`.
    init(_ permissions: [Permission], peer: EndpointSet) {
        for permission in permissions where permission.peer.overlaps(peer) {
            if !peer.isSubset(of: permission.peer) { partial = true }
            let ports = permission.ports.intersection(Self.validPorts)
            let numbers = permission.protocols.numbers
            if numbers.contains(6) { tcp = tcp.union(ports) }
            if numbers.contains(17) { udp = udp.union(ports) }
            if numbers.contains(132) { sctp = sctp.union(ports) }
            if !numbers.subtracting(IntervalSet([6...6, 17...17, 132...132])).isEmpty {
                other = true
            }
        }
    }

    var description: String {
        func list(_ ports: IntervalSet<UInt16>) -> String {
            ports.ranges.map {
                $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)"
            }
            .joined(separator: ",")
        }
        var parts: [String] = []
        if !tcp.isEmpty { parts.append("TCP \(list(tcp))") }
        if !udp.isEmpty { parts.append("UDP \(list(udp))") }
        if !sctp.isEmpty { parts.append("SCTP \(list(sctp))") }
        if other { parts.append("other protocols") }
        if partial { parts.append("(part of the range only)") }
        return parts.isEmpty ? "nothing" : parts.joined(separator: "; ")
    }
}
