import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// `topogen diff` reads what the kernel's own tools print: in throwaway network namespaces
/// (`Tests/Checkers/host_dump.py`), Docker's and kube-proxy's chains are loaded first (Docker
/// 28's FORWARD chains and raw drops, kube-proxy's filter and nat chains, through
/// iptables-restore; or native nftables tables in the same roles), then topogen's golden
/// script is applied (`sh worker.sh apply`) or ruleset loaded (`nft -f worker.nft`), and
/// `iptables-save`, `ip6tables-save`, `nft list ruleset` and `nft -j list ruleset` are read
/// back: in sync with the example's model. Then rules are added and deleted live with
/// `iptables` and `nft`, and exactly that change is found, at the line (or JSON path) the
/// tools print it.
///
/// Needs root (CI runs as root), iptables (nft backend), nft and ip netns; without them these
/// tests fail.
@Suite(.serialized) struct HostDiffEngineTests {
    static let examples = ["default", "hosts", "hosts-all-services", "user-cidrs"]
    static let roles: [Node] = [.server, .worker]

    /// One namespace's ruleset as the tools print it.
    struct Dump {
        var iptablesSave: String
        var ip6tablesSave: String
        var nft: String
        var nftJSON: String
    }

    @Test func iptablesSaveAfterApplyingEachScriptIsInSync() throws {
        var scenarios: [[String: Any]] = []
        for example in Self.examples {
            for role in Self.roles {
                scenarios.append([
                    "name": "\(example) \(role)", "apply": "sh",
                    "file": try Self.golden(example, "iptables", "\(role).sh"),
                    "foreign": ["docker", "kube"],
                ])
            }
        }
        let dumps = try Self.dump(scenarios)
        for example in Self.examples {
            let topology = try ExampleTopology.topology(of: try HostReaderSupport.example(example))
            for role in Self.roles {
                let dump = try #require(dumps["\(example) \(role)"])
                let (deployed, drift) = try HostReaderSupport.drift(
                    IptablesReader(),
                    [("iptables-save", dump.iptablesSave), ("ip6tables-save", dump.ip6tablesSave)],
                    role: role, topology: topology)
                #expect(
                    drift.isInSync,
                    "\(example) \(role):\n\(HostReaderSupport.describe(drift))\n\(dump.iptablesSave)"
                )
                // Docker's raw drops are named, and nothing else is said.
                #expect(
                    deployed.diagnostics.map(\.message).allSatisfy {
                        $0.hasSuffix(
                            "the 'raw' table drops packets; topogen diff compares the filter table only"
                        )
                    }, "\(deployed.diagnostics)")
                #expect(deployed.compared == HostPermissions.compared([.ipv4, .ipv6]))
            }
        }
    }

    @Test func nftListRulesetAfterLoadingEachRulesetIsInSyncAsTextAndJSON() throws {
        var scenarios: [[String: Any]] = []
        for example in Self.examples {
            for role in Self.roles {
                scenarios.append([
                    "name": "\(example) \(role)", "apply": "nft",
                    "file": try Self.golden(example, "nftables", "\(role).nft"),
                    "foreign": ["nft"],
                ])
            }
        }
        scenarios.append([
            "name": "iptables-nft", "apply": "nft",
            "file": try Self.golden("hosts", "nftables", "worker.nft"),
            "foreign": ["docker", "kube", "nft"],
        ])
        scenarios.append([
            "name": "kube-dns rejected", "apply": "nft",
            "file": try Self.golden("default", "nftables", "server.nft"),
            "foreign": ["kube"],
        ])
        let dumps = try Self.dump(scenarios)
        for example in Self.examples {
            let topology = try ExampleTopology.topology(of: try HostReaderSupport.example(example))
            for role in Self.roles {
                let dump = try #require(dumps["\(example) \(role)"])
                for (name, text) in [("ruleset", dump.nft), ("ruleset.json", dump.nftJSON)] {
                    let (deployed, drift) = try HostReaderSupport.drift(
                        NftablesReader(), [(name, text)], role: role, topology: topology)
                    #expect(
                        drift.isInSync,
                        "\(example) \(role) \(name):\n\(HostReaderSupport.describe(drift))\n\(dump.nft)"
                    )
                    #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
                }
            }
        }
        // Beside iptables-nft's tables (Docker's and kube-proxy's chains): in sync as text;
        // the JSON shows kube-proxy's conntrack match only as an `xt` extension, so its jump
        // from OUTPUT (IPv4 and IPv6) cannot be read, and nothing else differs.
        let mixed = try #require(dumps["iptables-nft"])
        let topology = try ExampleTopology.topology(of: try HostReaderSupport.example("hosts"))
        let text = try HostReaderSupport.drift(
            NftablesReader(), [("ruleset", mixed.nft)], role: .worker, topology: topology
        ).drift
        #expect(text.isInSync, "\(HostReaderSupport.describe(text))\n\(mixed.nft)")
        let json = try HostReaderSupport.drift(
            NftablesReader(), [("ruleset.json", mixed.nftJSON)], role: .worker,
            topology: topology
        ).drift
        #expect(
            json.findings.map { "\($0.kind) \($0.subject.map(\.description) ?? "")" } == [
                "unreadable worker egress", "unreadable worker egress",
            ], "\(HostReaderSupport.describe(json))")
        #expect(
            json.findings.allSatisfy {
                $0.message
                    == "'xt match conntrack' is not understood by topogen diff; the rule is not compared"
            })
        // kube-proxy rejects TCP to a DNS service without endpoints (port 53 of 10.96.0.10 and
        // fd00:96::a) in its own
        // base chain, which must accept too: where DNS may be any address, that part of the
        // flow is really refused.
        let rejected = try #require(dumps["kube-dns rejected"])
        let dns = try HostReaderSupport.drift(
            NftablesReader(), [("ruleset", rejected.nft)], role: .server,
            topology: try ExampleTopology.topology(of: try HostReaderSupport.example("default"))
        ).drift
        #expect(
            dns.findings.map(\.message) == [
                "server-dns: tcp 53 to dns (10.96.0.10/32, fd00:96::a/128) is not allowed (the rest of the flow is)"
            ], "\(HostReaderSupport.describe(dns))")
    }

    @Test func iptablesRulesChangedLiveAreFoundAtTheirLines() throws {
        let script = try Self.golden("hosts", "iptables", "worker.sh")
        let dumps = try Self.dump([
            [
                "name": "added", "apply": "sh", "file": script, "foreign": ["docker", "kube"],
                "then": ["iptables -w -I TOPOGEN-INPUT 1 -p tcp --dport 2222 -j ACCEPT"],
            ],
            [
                "name": "deleted", "apply": "sh", "file": script, "foreign": ["docker", "kube"],
                "then": [
                    "iptables -w -D TOPOGEN-OUTPUT -d 52.216.0.0/15 -p tcp -m tcp --dport 443 -m comment --comment worker-object-storage -j ACCEPT"
                ],
            ],
        ])
        let topology = try ExampleTopology.topology(of: try HostReaderSupport.example("hosts"))
        let added = try #require(dumps["added"])
        let drift = try HostReaderSupport.drift(
            IptablesReader(),
            [("iptables-save", added.iptablesSave), ("ip6tables-save", added.ip6tablesSave)],
            role: .worker, topology: topology
        ).drift
        let line = try HostReaderSupport.line(
            of: "-A TOPOGEN-INPUT -p tcp -m tcp --dport 2222 -j ACCEPT", in: added.iptablesSave)
        #expect(drift.findings.count == 1, "\(HostReaderSupport.describe(drift))")
        #expect(drift.findings.first?.kind == .extra)
        #expect(drift.findings.first?.subject == Subject(.worker, .ingress))
        #expect(drift.findings.first?.location == SourceLocation(file: "iptables-save", line: line))
        let deleted = try #require(dumps["deleted"])
        let missing = try HostReaderSupport.drift(
            IptablesReader(),
            [("iptables-save", deleted.iptablesSave), ("ip6tables-save", deleted.ip6tablesSave)],
            role: .worker, topology: topology
        ).drift
        #expect(
            missing.findings.map { "\($0.kind) \($0.subject.map(\.description) ?? "") \($0.flows)" }
                == ["missing worker egress [\"worker-object-storage\"]"],
            "\(HostReaderSupport.describe(missing))")
    }

    @Test func nftRulesChangedLiveAreFoundAtTheirLinesAndPaths() throws {
        let ruleset = try Self.golden("hosts", "nftables", "worker.nft")
        let dumps = try Self.dump([
            [
                "name": "added", "apply": "nft", "file": ruleset, "foreign": ["nft"],
                "then": ["nft add rule inet topogen input tcp dport 2222 accept"],
            ],
            [
                "name": "deleted", "apply": "nft", "file": ruleset, "foreign": ["nft"],
                "then": [
                    "nft delete rule inet topogen output handle $(nft -a list chain inet topogen output | awk '/worker-vcs/ { print $NF }')"
                ],
            ],
        ])
        let topology = try ExampleTopology.topology(of: try HostReaderSupport.example("hosts"))
        let added = try #require(dumps["added"])
        let text = try HostReaderSupport.drift(
            NftablesReader(), [("ruleset", added.nft)], role: .worker, topology: topology
        ).drift
        #expect(text.findings.count == 1, "\(HostReaderSupport.describe(text))")
        #expect(text.findings.first?.kind == .extra)
        #expect(text.findings.first?.subject == Subject(.worker, .ingress))
        #expect(
            text.findings.first?.location
                == SourceLocation(
                    file: "ruleset",
                    line: try HostReaderSupport.line(of: "tcp dport 2222 accept", in: added.nft)))
        let json = try HostReaderSupport.drift(
            NftablesReader(), [("ruleset.json", added.nftJSON)], role: .worker,
            topology: topology
        ).drift
        #expect(json.findings.count == 1, "\(HostReaderSupport.describe(json))")
        #expect(json.findings.first?.kind == .extra)
        let path = try #require(json.findings.first?.location?.path)
        // The path names the rule the JSON lists last in topogen's input chain.
        let index = try #require(Int(path.dropFirst("nftables[".count).prefix { $0.isNumber }))
        let entries = try #require(
            (try JSONSerialization.jsonObject(with: Data(added.nftJSON.utf8)) as? [String: Any])?[
                "nftables"] as? [[String: Any]])
        let rule = try #require(entries[index]["rule"] as? [String: Any])
        #expect(rule["chain"] as? String == "input")
        #expect("\(rule["expr"] ?? "")".contains("2222"))
        let deleted = try #require(dumps["deleted"])
        for (name, output) in [("ruleset", deleted.nft), ("ruleset.json", deleted.nftJSON)] {
            let missing = try HostReaderSupport.drift(
                NftablesReader(), [(name, output)], role: .worker, topology: topology
            ).drift
            #expect(
                missing.findings.map {
                    "\($0.kind) \($0.subject.map(\.description) ?? "") \($0.flows)"
                }
                    == ["missing worker egress [\"worker-vcs\"]"],
                "\(name): \(HostReaderSupport.describe(missing))")
        }
    }

    // MARK: Support

    private static func golden(_ example: String, _ target: String, _ file: String) throws -> String
    {
        try HostReaderSupport.example(example).golden(target, file).standardizedFileURL.path
    }

    /// Runs the scenarios in network namespaces and returns what the tools printed in each.
    static func dump(_ scenarios: [[String: Any]]) throws -> [String: Dump] {
        guard getuid() == 0 else {
            throw CommandError(
                description: "the host diff engine tests need root (ip netns, iptables, nft)")
        }
        let input = try JSONSerialization.data(withJSONObject: ["scenarios": scenarios])
        let result = try Command.run(
            try Command.checker("python3"),
            [Repository.root.appendingPathComponent("Tests/Checkers/host_dump.py").path],
            stdin: String(decoding: input, as: UTF8.self))
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
                as? [String: [String: String]]
        else {
            throw CommandError(description: "host_dump.py failed: \(result.stderr)")
        }
        return object.mapValues {
            Dump(
                iptablesSave: $0["iptables-save"] ?? "", ip6tablesSave: $0["ip6tables-save"] ?? "",
                nft: $0["nft"] ?? "", nftJSON: $0["nft-json"] ?? "")
        }
    }
}
