public import Emitters
import Foundation
import TestSupport
import TopologyModel

/// One fuzz target: an input of topogen (a topology file, or the deployed rules of one format)
/// and the public entry points the `topogen` executable calls on it. A harness turns the
/// fuzzer's bytes into the text topogen would hand over and runs the same steps, so that the
/// fuzzer exercises parsing and evaluation, not only tokenising.
///
/// For example: `Harness.iptables.run(Array("*filter\n:INPUT DROP [0:0]\nCOMMIT\n".utf8))` reads
/// the text as the `iptables-save` of one component host of a realistic topology, as
/// `topogen diff --target iptables --role ROLE` does, and compares it with the model.
public enum Harness: String, CaseIterable, Sendable {
    /// `TopologyFile.decode` of a YAML topology file, then resolving it to a ``Topology``.
    case topologyYAML = "topology-yaml"
    /// `TopologyFile.decode` of a JSON topology file, then resolving it to a ``Topology``.
    case topologyJSON = "topology-json"
    /// The Kubernetes reader: NetworkPolicies as YAML or JSON (`kubectl get -o yaml`).
    case kubernetes = "k8s"
    /// The iptables reader: `iptables-save` output or topogen's iptables scripts.
    case iptables
    /// The nftables reader on `nft list ruleset` text (and topogen's `.nft` files).
    case nftables
    /// The nftables reader on `nft -j list ruleset` JSON.
    case nftablesJSON = "nftables-json"
    /// The AWS reader: `aws ec2 describe-security-groups` JSON.
    case aws
    /// The Terraform reader: HCL (`.tf`).
    case terraform

    /// What one run did with an input, for the replay tool and the regression tests: the input
    /// was read (with its numbers of findings), or refused with diagnostics, as topogen would
    /// print them.
    ///
    /// For example: `.refused(["<fuzz>:1: error: ..."])`.
    public enum Outcome: Hashable, Sendable, CustomStringConvertible {
        /// The input was read: a topology with this many nodes, or deployed rules with this
        /// many findings of drift.
        case read(String)
        /// The input was refused with these diagnostics (`FILE:LINE: error: ...`).
        case refused([String])

        /// One line per diagnostic, or a summary of what was read.
        public var description: String {
            switch self {
            case .read(let summary): "read: \(summary)"
            case .refused(let diagnostics): diagnostics.joined(separator: "\n")
            }
        }
    }

    /// The name under which inputs are read, as in diagnostics (`<fuzz>:3: error: ...`).
    public static let inputName = "<fuzz>"

    /// The format whose reader the harness drives, or `nil` for the topology decoder.
    ///
    /// For example: ``nftablesJSON`` drives ``Format/nftables``.
    public var format: Format? {
        switch self {
        case .topologyYAML, .topologyJSON: nil
        case .kubernetes: .kubernetes
        case .iptables: .iptables
        case .nftables, .nftablesJSON: .nftables
        case .aws: .aws
        case .terraform: .terraform
        }
    }

    /// Runs the harness on the fuzzer's bytes, decoded as UTF-8 (invalid sequences become
    /// U+FFFD, as topogen refuses non-UTF-8 before any reader sees it).
    ///
    /// For example: `Harness.topologyYAML.run(Array("options: {sqs: true}\n".utf8))` is
    /// `.read("…")`.
    public func run(_ bytes: [UInt8]) -> Outcome {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let format else { return Self.topology(text) }
        let setting = Setting.choose(for: bytes, needsRole: format.needsRole)
        let options = ReadOptions(role: setting.role)
        let reader = format.reader
        do {
            let deployed = try reader.read(
                [InputText(name: Self.inputName, contents: text)], topology: setting.topology,
                options: options)
            let drift = Drift(expected: setting.expected(format), deployed: deployed)
            return .read(
                "\(drift.findings.count) findings, \(deployed.unreadable.count) unreadable")
        } catch {
            return .refused(error.diagnostics.map(\.description))
        }
    }

    /// Decodes a topology file and resolves it, as `topogen generate --topology FILE` does.
    private static func topology(_ text: String) -> Outcome {
        do {
            let spec = try TopologyFile.decode(text)
            let (topology, _) = try spec.resolve()
            return .read("\(topology.nodes.count) nodes, \(topology.flows().count) flows")
        } catch {
            return .refused(error.diagnostics.map(\.description))
        }
    }
}

extension Format {
    /// Whether the reader needs `--role`: host firewalls are one host's rules.
    fileprivate var needsRole: Bool {
        switch self {
        case .iptables, .nftables: true
        case .kubernetes, .aws, .terraform: false
        }
    }
}

/// The model an input is read against: one of a few realistic topologies (the reference
/// installation and the example topology files) and, for host firewalls, one of its
/// components, chosen from the input's length so that a run is deterministic.
///
/// For example: with the settings "reference without a role", "aws-two-pools without a
/// role" and "k8s-gateway without a role", a Kubernetes input of 7 bytes is read against the
/// second (`7 % 3`); host inputs choose in the same way among every (topology, component).
struct Setting: Sendable {
    /// The topology.
    var topology: Topology
    /// The component host, for host firewalls.
    var role: Node?
    /// The permissions each format requires of this topology and role, worked out once.
    var expectedByFormat: [Format: [Permission]]

    /// What the format's reader must find for the model.
    func expected(_ format: Format) -> [Permission] {
        expectedByFormat[format] ?? []
    }

    /// The reference installation and the example files `examples/aws-two-pools.yaml` and
    /// `examples/k8s-gateway.yaml` (an example that cannot be read is left out).
    static let topologies: [Topology] = {
        var topologies = [Topology.reference]
        for name in ["aws-two-pools", "k8s-gateway"] {
            let url = Repository.examples.appendingPathComponent("\(name).yaml")
            guard let text = try? String(contentsOf: url, encoding: .utf8),
                let spec = try? TopologyFile.decode(text),
                let topology = try? spec.resolve().topology
            else { continue }
            topologies.append(topology)
        }
        return topologies
    }()

    /// Every setting: each topology without a role, then with each of its components.
    static let all: (plain: [Setting], hosts: [Setting]) = {
        func setting(_ topology: Topology, _ role: Node?) -> Setting {
            let options = ReadOptions(role: role)
            var expected: [Format: [Permission]] = [:]
            for format in Format.allCases where format.needsRole == (role != nil) {
                expected[format] = format.reader.expectedPermissions(
                    for: topology, options: options)
            }
            return Setting(topology: topology, role: role, expectedByFormat: expected)
        }
        let plain = topologies.map { setting($0, nil) }
        let hosts = topologies.flatMap { topology in
            topology.components.map { setting(topology, $0) }
        }
        return (plain, hosts)
    }()

    /// The setting of an input.
    static func choose(for bytes: [UInt8], needsRole: Bool) -> Setting {
        let settings = needsRole ? all.hosts : all.plain
        return settings[bytes.count % settings.count]
    }
}
