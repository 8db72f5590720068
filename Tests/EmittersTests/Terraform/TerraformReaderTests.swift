import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// The Terraform reader: topogen's own module of every example and of several shapes reads
/// back in sync; hand-written configurations (Spacelift's style, `aws_security_group_rule`,
/// `aws_vpc_security_group_*_rule`) read as what they allow; each mutation is exactly its
/// finding; what cannot be known is reported with its line.
@Suite struct TerraformReaderTests {
    /// An installation whose external services have known addresses: the topology of the
    /// `security-group-rules` and `vpc-rules` fixtures.
    static let knownAddresses = [
        "--cidr", "clients=203.0.113.0/24", "--cidr", "object-storage=52.216.0.0/15", "--cidr",
        "vcs=140.82.112.0/20", "--cidr", "container-registry=10.0.2.20", "--cidr",
        "infrastructure=10.1.0.0/16,2001:db8:2::/48",
    ]

    /// An installation in an IPv4-only VPC, as Spacelift's own modules assume (they write no
    /// IPv6 rule).
    static let ipv4Only = [
        "--cidr", "clients=0.0.0.0/0", "--cidr", "object-storage=0.0.0.0/0", "--cidr",
        "vcs=0.0.0.0/0", "--cidr", "container-registry=0.0.0.0/0", "--cidr",
        "infrastructure=0.0.0.0/0",
    ]

    /// The groups of the Spacelift-style fixture, by address.
    static let spaceliftGroups: [Node: String] = [
        .server: "aws_security_group.server_sg", .drain: "aws_security_group.drain_sg",
        .scheduler: "aws_security_group.scheduler_sg", .worker: "aws_security_group.worker_sg",
        .lb: "aws_security_group.load_balancer_sg", .postgres: "aws_security_group.database_sg",
    ]

    /// A finding in a few words: kind, subject, flows, location.
    struct Brief: Hashable, CustomStringConvertible {
        var kind: Finding.Kind
        var subject: String
        var flows: [String]
        var location: String

        init(
            _ kind: Finding.Kind, _ subject: String, _ flows: [String] = [], _ location: String = ""
        ) {
            self.kind = kind
            self.subject = subject
            self.flows = flows
            self.location = location
        }

        init(_ finding: Finding) {
            self.init(
                finding.kind, finding.subject?.description ?? "-", finding.flows,
                finding.location?.description ?? "")
        }

        var description: String { "\(kind) \(subject) \(flows) \(location)" }
    }

    /// The `.tf` files of a fixture directory, sorted, as the CLI passes them.
    static func fixture(_ name: String) throws -> [InputText] {
        let url = Repository.root.appendingPathComponent("Tests/Fixtures/diff/terraform/\(name)")
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { $0.hasSuffix(".tf") }.sorted()
        return try names.map {
            InputText(
                name: $0,
                contents: try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8))
        }
    }

    /// The files with one text replaced in one file; the text must be there.
    static func replacing(
        _ old: String, with new: String, in file: String, of inputs: [InputText]
    ) throws -> [InputText] {
        var result = inputs
        let index = try #require(result.firstIndex { $0.name == file })
        #expect(result[index].contents.contains(old), "'\(old)' is not in \(file)")
        result[index].contents = result[index].contents.replacingOccurrences(of: old, with: new)
        return result
    }

    /// What the reader finds in some files for a topology.
    static func drift(
        _ inputs: [InputText], _ topology: Topology, groups: [Node: String] = [:]
    ) throws -> (Drift, DeployedRules) {
        let reader = Format.terraform.reader
        let options = ReadOptions(groups: groups)
        let deployed = try reader.read(inputs, topology: topology, options: options)
        return (
            Drift(
                expected: reader.expectedPermissions(for: topology, options: options),
                deployed: deployed),
            deployed
        )
    }

    static func briefs(_ drift: Drift) -> [Brief] { drift.findings.map(Brief.init) }

    static func files(_ rendering: Rendering) -> [InputText] {
        rendering.files.map { InputText(name: $0.name, contents: $0.contents) }
            .sorted { $0.name < $1.name }
    }

    static func golden(_ example: Example) throws -> [InputText] {
        try ["main.tf", "outputs.tf", "variables.tf", "versions.tf"].map {
            InputText(
                name: $0,
                contents: try String(
                    contentsOf: example.golden("terraform", $0), encoding: .utf8))
        }
    }

    // MARK: - topogen's own module

    @Test(arguments: Example.all)
    func everyGoldenModuleReadsBackInSync(example: Example) throws {
        let topology = try ExampleTopology.topology(of: example)
        let (drift, deployed) = try Self.drift(try Self.golden(example), topology)
        #expect(drift.isInSync, "\(Self.briefs(drift))")
        #expect(deployed.unreadable.isEmpty)
        #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
        #expect(
            deployed.permissions.allSatisfy { !$0.flows.isEmpty },
            "every rule of the module names its flows in its description")
    }

    @Test(arguments: [
        [String](), ["--with-sqs", "--with-iot-core", "--with-kms"],
        ["--workers", "external", "--cidr", "clients=203.0.113.0/24,2001:db8:100::/48"],
        ["--postgres-port", "6543", "--mqtt-port", "8883", "--name-prefix", "prod"],
        ["--prefix-list", "object-storage=pl-63a5400a:3", "--cidr", "vcs=140.82.112.0/20"],
        ["--infrastructure-port", "443", "--infrastructure-port", "30000-32767"] + knownAddresses,
    ])
    func emittedModulesReadBackInSync(arguments: [String]) throws {
        let topology = try ExampleTopology.topology(arguments)
        let module = try TerraformEmitter().render(topology)
        let (drift, deployed) = try Self.drift(Self.files(module), topology)
        #expect(drift.isInSync, "\(Self.briefs(drift))")
        #expect(deployed.unreadable.isEmpty)
    }

    @Test func theModuleOfOtherOptionsIsNotInSync() throws {
        let kms = try ExampleTopology.topology(
            Self.knownAddresses + ["--with-kms", "--cidr", "kms=10.0.5.0/24"])
        let plain = try ExampleTopology.topology(Self.knownAddresses)
        let (drift, _) = try Self.drift(Self.files(try TerraformEmitter().render(kms)), plain)
        #expect(
            Set(Self.briefs(drift).map(\.kind)) == [.extra],
            "the KMS rules are extra: \(Self.briefs(drift))")
        #expect(Set(drift.findings.flatMap(\.flows)) == ["server-kms", "drain-kms"])
    }

    @Test func mutationsOfTheGoldenModule() throws {
        let example = try #require(Example.all.first { $0.name == "default" })
        let topology = try ExampleTopology.topology(of: example)
        let golden = try Self.golden(example)
        let main = try #require(golden.first { $0.name == "main.tf" }).contents
        let lines = main.split(separator: "\n", omittingEmptySubsequences: false)
        let ingressLine = try #require(
            lines.firstIndex { $0.contains("resource \"aws_vpc_security_group_ingress_rule\"") })
        let drain = try #require(
            lines.first {
                $0.contains("flow = \"drain-postgres\"") && $0.contains("group = \"postgres\"")
            })

        // Removing an entry removes its rule: one missing flow.
        let removed = try Self.replacing(String(drain) + "\n", with: "", in: "main.tf", of: golden)
        #expect(
            try Self.briefs(Self.drift(removed, topology).0)
                == [Brief(.missing, "postgres ingress", ["drain-postgres"])])

        // Widening a port: broader, at the line of the rule resource.
        let widened = try Self.replacing(
            "flow = \"lb-server-http\", reason = \"Server ingress HTTP 1983\", protocol = \"tcp\", from_port = 1983, to_port = 1983, peer_group = \"lb\"",
            with:
                "flow = \"lb-server-http\", reason = \"Server ingress HTTP 1983\", protocol = \"tcp\", from_port = 1980, to_port = 1983, peer_group = \"lb\"",
            in: "main.tf", of: golden)
        let (drift, _) = try Self.drift(widened, topology)
        #expect(
            Self.briefs(drift)
                == [
                    Brief(
                        .broader, "server ingress", ["lb-server-http"], "main.tf:\(ingressLine + 1)"
                    )
                ])
        #expect(drift.findings.first?.reasons == ["ports 1980-1982"])
        #expect(
            drift.findings.first?.message.contains(
                "'aws_vpc_security_group_ingress_rule.this[\"lb-server-http tcp/1980-1983 lb\"]'")
                == true)
    }

    // MARK: - Spacelift's style

    @Test func spaceliftsStyleIsBroaderOnEveryComponentsEgress() throws {
        let topology = try ExampleTopology.topology(Self.ipv4Only)
        let (drift, deployed) = try Self.drift(
            try Self.fixture("spacelift-style"), topology, groups: Self.spaceliftGroups)
        #expect(
            Self.briefs(drift) == [
                Brief(
                    .broader, "server egress",
                    [
                        "server-image-pull", "server-object-storage", "server-postgres",
                        "server-vcs",
                    ],
                    "main.tf:33"),
                Brief(
                    .broader, "drain egress",
                    ["drain-image-pull", "drain-object-storage", "drain-postgres", "drain-vcs"],
                    "main.tf:47"),
                Brief(
                    .broader, "scheduler egress", ["scheduler-image-pull", "scheduler-postgres"],
                    "main.tf:61"),
                Brief(
                    .broader, "worker egress",
                    [
                        "worker-container-registry", "worker-infrastructure", "worker-mqtt",
                        "worker-object-storage", "worker-server", "worker-vcs",
                    ], "main.tf:75"),
                Brief(.broader, "lb ingress", ["worker-mqtt"], "main.tf:129"),
            ])
        for finding in drift.findings where finding.subject?.direction == .egress {
            #expect(finding.reasons == ["all protocols", "all ports"])
            let node = finding.subject?.node.rawValue ?? ""
            #expect(
                finding.message.hasPrefix(
                    "'aws_security_group.\(node)_sg egress[0]' allows more than"))
            #expect(finding.message.hasSuffix(": all protocols; all ports"))
        }
        #expect(
            drift.findings.last?.reasons
                == [
                    "0.0.0.0/0 where the model has worker (security group spacelift-worker)"
                ])
        #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
        #expect(deployed.unreadable.isEmpty)
    }

    @Test func withIPv6InTheModelSpaceliftsStyleAlsoMissesIt() throws {
        let topology = try ExampleTopology.topology([])
        let (drift, _) = try Self.drift(
            try Self.fixture("spacelift-style"), topology, groups: Self.spaceliftGroups)
        let missing = drift.findings.filter { $0.kind == .missing }
        #expect(
            Set(missing.map { $0.subject?.description ?? "" }) == [
                "lb ingress", "server egress", "drain egress", "scheduler egress", "worker egress",
            ])
        #expect(
            missing.allSatisfy {
                $0.permission?.peer.ipv6.isFull == true && $0.permission?.peer.ipv4.isEmpty == true
            })
    }

    // MARK: - Other hand-written styles

    @Test func securityGroupRulesWithVariablesAndLocalsAreInSync() throws {
        let topology = try ExampleTopology.topology(Self.knownAddresses)
        let (drift, deployed) = try Self.drift(try Self.fixture("security-group-rules"), topology)
        #expect(drift.isInSync, "\(Self.briefs(drift))")
        #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
        let excerpts = Set(deployed.permissions.compactMap(\.excerpt))
        #expect(excerpts.contains("aws_security_group_rule.database_from_backend[2]"))
        #expect(excerpts.contains("aws_security_group_rule.lb_from_workers[\"mqtt\"]"))
        #expect(
            deployed.permissions.first { $0.excerpt == "aws_security_group_rule.lb_https" }?.flows
                == ["clients-lb-https"])
    }

    @Test func vpcRulesFromAMapOfRulesAreInSync() throws {
        let topology = try ExampleTopology.topology(Self.knownAddresses)
        let (drift, deployed) = try Self.drift(try Self.fixture("vpc-rules"), topology)
        #expect(drift.isInSync, "\(Self.briefs(drift))")
        #expect(deployed.diagnostics.isEmpty, "\(deployed.diagnostics)")
        #expect(deployed.permissions.count == 27)
    }

    @Test func mutationsOfHandWrittenRules() throws {
        let topology = try ExampleTopology.topology(Self.knownAddresses)
        let original = try Self.fixture("security-group-rules")
        let main = try #require(original.first { $0.name == "main.tf" }).contents
        let registryRule = try #require(
            main.components(
                separatedBy: "resource \"aws_security_group_rule\" \"scheduler_registry\" {"
            ).last?
            .components(separatedBy: "}\n").first)
        let fullRule =
            "resource \"aws_security_group_rule\" \"scheduler_registry\" {" + registryRule + "}\n"

        // Removing a rule: exactly its flow is missing.
        let removed = try Self.replacing(fullRule, with: "", in: "main.tf", of: original)
        #expect(
            try Self.briefs(Self.drift(removed, topology).0)
                == [Brief(.missing, "scheduler egress", ["scheduler-image-pull"])])

        // Widening a port to every port.
        let ports = try Self.replacing(
            fullRule,
            with: fullRule.replacingOccurrences(
                of: "from_port         = 443", with: "from_port         = 0"
            )
            .replacingOccurrences(of: "to_port           = 443", with: "to_port           = 65535"),
            in: "main.tf", of: original)
        let (widePorts, _) = try Self.drift(ports, topology)
        #expect(
            Self.briefs(widePorts)
                == [Brief(.broader, "scheduler egress", ["scheduler-image-pull"], "main.tf:108")])
        #expect(widePorts.findings.first?.reasons == ["all ports"])

        // Widening a CIDR.
        let cidr = try Self.replacing(
            fullRule,
            with: fullRule.replacingOccurrences(
                of: "cidr_blocks       = var.registry_cidrs",
                with: "cidr_blocks       = [\"10.0.2.0/24\"]"),
            in: "main.tf", of: original)
        let (wideCIDR, _) = try Self.drift(cidr, topology)
        #expect(
            Self.briefs(wideCIDR)
                == [Brief(.broader, "scheduler egress", ["scheduler-image-pull"], "main.tf:108")])
        #expect(
            wideCIDR.findings.first?.reasons
                == ["10.0.2.0/24 where the model has container-registry (10.0.2.20/32)"])

        // Adding a rule.
        let added = try Self.replacing(
            fullRule,
            with: fullRule + """

                resource "aws_security_group_rule" "drain_ssh" {
                  type              = "ingress"
                  security_group_id = aws_security_group.component["drain"].id
                  protocol          = "tcp"
                  from_port         = 22
                  to_port           = 22
                  cidr_blocks       = ["0.0.0.0/0"]
                }

                """,
            in: "main.tf", of: original)
        let (extra, _) = try Self.drift(added, topology)
        #expect(Self.briefs(extra) == [Brief(.extra, "drain ingress", [], "main.tf:117")])
        #expect(
            extra.findings.first?.message.hasPrefix(
                "'aws_security_group_rule.drain_ssh' allows tcp 22 from 0.0.0.0/0") == true)

        // A variable without default: the rules that use it are unreadable, with the cause.
        let noDefault = try Self.replacing(
            "  type    = number\n  default = 5432\n", with: "  type = number\n", in: "variables.tf",
            of: original)
        let (unknown, _) = try Self.drift(noDefault, topology)
        let unreadable = Self.briefs(unknown).filter { $0.kind == .unreadable }
        #expect(
            unreadable == [
                Brief(.unreadable, "server egress", [], "main.tf:86"),
                Brief(.unreadable, "drain egress", [], "main.tf:86"),
                Brief(.unreadable, "scheduler egress", [], "main.tf:86"),
                Brief(.unreadable, "postgres ingress", [], "main.tf:75"),
                Brief(.unreadable, "postgres ingress", [], "main.tf:75"),
                Brief(.unreadable, "postgres ingress", [], "main.tf:75"),
            ])
        #expect(
            unknown.findings.first { $0.kind == .unreadable }?.message
                == "'var.postgres_port' has no default (variables.tf:12); the rule is not compared")
        #expect(
            Set(unknown.findings.filter { $0.kind == .missing }.flatMap(\.flows))
                == ["server-postgres", "drain-postgres", "scheduler-postgres"],
            "what is unreadable is also missing: nothing else allows it")
    }

    @Test func whatCannotBeKnownIsReportedWithItsLine() throws {
        let (drift, deployed) = try Self.drift(
            try Self.fixture("unreadable"), try ExampleTopology.topology([]))
        let unreadable = drift.findings.filter { $0.kind == .unreadable }
        #expect(
            unreadable.map {
                "\($0.subject?.description ?? "-") \($0.location?.description ?? "") \($0.message)"
            }
                == [
                    "server ingress main.tf:28 'var.admin_ports' has no default (main.tf:6); the rule is not compared",
                    "server egress main.tf:38 template directives ('%{...}') are not supported (main.tf:42); the rule is not compared",
                    "server egress main.tf:70 'data.aws_security_group.monitoring' is read from the provider at plan time (it names no 'id' or 'name'); the rule is not compared",
                    "drain egress main.tf:49 'cidrsubnets(...)' is not evaluated by topogen (main.tf:53); the rule is not compared",
                    "- main.tf:58 the name of 'aws_security_group.worker' is not known: 'var.environment' has no default (main.tf:10); its rules are not compared (name it with '--group NODE=aws_security_group.worker')",
                    "- main.tf:86 'data.aws_security_group.monitoring' is read from the provider at plan time (it names no 'id' or 'name'); the rule is not compared",
                ])
        #expect(
            deployed.diagnostics.map(\.message).contains(
                "'aws_security_group.server' has inline egress rules and 'aws_vpc_security_group_egress_rule.server_metrics' adds to them; the AWS provider says the two conflict (both are compared)"
            ))
        #expect(
            !drift.findings.contains { $0.location?.line == 78 },
            "the rule of the bastion group, looked up by name, is not one of the installation's")
    }

    // MARK: - Semantics

    private func read(
        _ text: String, topology arguments: [String] = [], groups: [Node: String] = [:]
    )
        throws -> (Drift, DeployedRules)
    {
        try Self.drift(
            [InputText(name: "main.tf", contents: text)],
            try ExampleTopology.topology(arguments), groups: groups)
    }

    @Test func aGroupWithoutEgressRulesHasNoEgress() throws {
        let (drift, deployed) = try read(
            """
            resource "aws_security_group" "scheduler" {
              name = "spacelift-scheduler"
            }
            """)
        #expect(deployed.permissions.isEmpty)
        #expect(
            Set(drift.findings.filter { $0.subject == Subject(.scheduler, .egress) }.map(\.kind))
                == [.missing], "nothing is allowed: the provider removes AWS's default egress")
    }

    @Test func inlineRulesAsAttributesSelfICMPAndProtocolNumbers() throws {
        let (_, deployed) = try read(
            """
            resource "aws_security_group" "worker" {
              name = "spacelift-worker"
              ingress = [{
                from_port = 8
                to_port = -1
                protocol = "icmp"
                cidr_blocks = ["10.0.0.0/8"]
                ipv6_cidr_blocks = []
                prefix_list_ids = []
                security_groups = []
                self = true
                description = null
              }]
              egress = [{
                from_port = 0
                to_port = 0
                protocol = -1
                cidr_blocks = []
                ipv6_cidr_blocks = ["::/0"]
                prefix_list_ids = ["pl-63a5400a"]
                security_groups = []
                self = false
                description = "all"
              }]
            }
            """)
        let ingress = deployed.permissions.filter { $0.subject == Subject(.worker, .ingress) }
        #expect(ingress.count == 2)
        #expect(ingress.allSatisfy { $0.protocols == .icmp && $0.ports == IntervalSet([8...8]) })
        #expect(
            ingress.contains { $0.peer == EndpointSet(names: ["security group spacelift-worker"]) })
        #expect(
            ingress.allSatisfy {
                $0.excerpt == "aws_security_group.worker ingress[0]" && $0.origin?.line == 3
            })
        let egress = deployed.permissions.filter { $0.subject == Subject(.worker, .egress) }
        #expect(egress.count == 2)
        #expect(egress.allSatisfy { $0.protocols.isAll })
        #expect(egress.contains { $0.peer == EndpointSet(names: ["prefix list pl-63a5400a"]) })
    }

    @Test func groupsByAddressWithForEachKeysAndLiteralIDs() throws {
        let text = """
            resource "aws_security_group" "this" {
              for_each = toset(["api"])
              name     = "custom-${each.key}"
            }

            resource "aws_vpc_security_group_ingress_rule" "api" {
              security_group_id            = aws_security_group.this["api"].id
              ip_protocol                  = "tcp"
              from_port                    = 1983
              to_port                      = 1983
              referenced_security_group_id = "sg-0123456789abcdef0"
            }

            resource "aws_vpc_security_group_egress_rule" "lb" {
              security_group_id            = "sg-0123456789abcdef0"
              ip_protocol                  = "tcp"
              from_port                    = 1983
              to_port                      = 1983
              referenced_security_group_id = aws_security_group.this["api"].id
            }
            """
        for address in ["aws_security_group.this[\"api\"]", "aws_security_group.this[api]"] {
            let (_, deployed) = try read(
                text, groups: [.server: address, .lb: "sg-0123456789abcdef0"])
            #expect(
                deployed.permissions.map(\.subject) == [
                    Subject(.server, .ingress), Subject(.lb, .egress),
                ])
            #expect(
                deployed.permissions.first?.peer
                    == EndpointSet(names: ["security group spacelift-lb"]))
            #expect(
                deployed.permissions.last?.peer
                    == EndpointSet(names: ["security group spacelift-server"]))
        }
    }

    @Test func namePrefixAndDataSourcesByName() throws {
        let (_, deployed) = try read(
            """
            data "aws_security_group" "lb" {
              name = "spacelift-lb"
            }

            resource "aws_security_group" "server" {
              name_prefix = "spacelift-server-"

              ingress {
                from_port       = 1983
                to_port         = 1983
                protocol        = "tcp"
                security_groups = [data.aws_security_group.lb.id]
              }
            }
            """)
        #expect(
            deployed.permissions.map(\.subject) == [Subject(.server, .ingress)],
            "name_prefix 'spacelift-server-' is the server's group")
        #expect(
            deployed.permissions.first?.peer == EndpointSet(names: ["security group spacelift-lb"]))
    }

    /// The style of the widely used community module for security groups: groups made with
    /// `count`, their id through a legacy splat, rules from a map of named rules.
    @Test func countLegacySplatsAndNamedRuleMaps() throws {
        let (_, deployed) = try read(
            """
            variable "create" {
              default = true
            }
            variable "use_name_prefix" {
              default = false
            }
            variable "rules" {
              default = {
                "https-443-tcp" = [443, 443, "tcp", "HTTPS"]
                "postgresql-tcp" = [5432, 5432, "tcp", "PostgreSQL"]
                "_" = ["", "", ""]
              }
            }
            variable "egress_rules" {
              default = ["https-443-tcp"]
            }
            variable "egress_with_cidr_blocks" {
              default = [{ rule = "postgresql-tcp", cidr_blocks = "10.0.1.0/24,10.0.2.0/24" }]
            }
            locals {
              this_sg_id = var.create ? concat(aws_security_group.this.*.id, aws_security_group.this_name_prefix.*.id, [""])[0] : null
            }
            resource "aws_security_group" "this" {
              count = var.create && !var.use_name_prefix ? 1 : 0
              name  = "spacelift-drain"
            }
            resource "aws_security_group" "this_name_prefix" {
              count       = var.create && var.use_name_prefix ? 1 : 0
              name_prefix = "spacelift-drain-"
            }
            resource "aws_security_group_rule" "egress_rules" {
              count             = var.create ? length(var.egress_rules) : 0
              security_group_id = local.this_sg_id
              type              = "egress"
              cidr_blocks       = ["0.0.0.0/0"]
              description       = var.rules[var.egress_rules[count.index]][3]
              from_port         = var.rules[var.egress_rules[count.index]][0]
              to_port           = var.rules[var.egress_rules[count.index]][1]
              protocol          = var.rules[var.egress_rules[count.index]][2]
            }
            resource "aws_security_group_rule" "egress_with_cidr_blocks" {
              count             = var.create ? length(var.egress_with_cidr_blocks) : 0
              security_group_id = local.this_sg_id
              type              = "egress"
              cidr_blocks = split(
                ",",
                lookup(var.egress_with_cidr_blocks[count.index], "cidr_blocks", ""),
              )
              from_port = lookup(
                var.egress_with_cidr_blocks[count.index],
                "from_port",
                var.rules[lookup(var.egress_with_cidr_blocks[count.index], "rule", "_")][0],
              )
              to_port = lookup(
                var.egress_with_cidr_blocks[count.index],
                "to_port",
                var.rules[lookup(var.egress_with_cidr_blocks[count.index], "rule", "_")][1],
              )
              protocol = var.rules[lookup(var.egress_with_cidr_blocks[count.index], "rule", "_")][2]
            }
            """)
        #expect(
            deployed.permissions.map {
                "\($0.subject) \($0.serviceDescription) \($0.peer) \($0.excerpt ?? "")"
            }
                == [
                    "drain egress tcp 443 0.0.0.0/0 aws_security_group_rule.egress_rules[0]",
                    "drain egress tcp 5432 10.0.1.0/24 aws_security_group_rule.egress_with_cidr_blocks[0]",
                    "drain egress tcp 5432 10.0.2.0/24 aws_security_group_rule.egress_with_cidr_blocks[0]",
                ])
        #expect(deployed.unreadable.isEmpty)
    }

    @Test func moduleCallsAreNotFollowed() throws {
        let (_, deployed) = try read(
            """
            module "security_groups" {
              source = "./modules/sg"
            }
            """)
        #expect(
            deployed.diagnostics.first?.message
                == "main.tf:1: module 'security_groups' is not read; security groups it creates are not compared"
        )
    }

    @Test func jsonSyntaxIsReportedNotRead() throws {
        let (drift, _) = try Self.drift(
            [InputText(name: "main.tf.json", contents: "{\"resource\": {}}")],
            try ExampleTopology.topology([]))
        #expect(
            drift.findings.filter { $0.kind == .unreadable }.map(\.message) == [
                "Terraform's JSON syntax ('.tf.json') is not read; its rules are not compared"
            ])
    }

    @Test func syntaxErrorsAreReadErrorsWithFileAndLine() throws {
        do {
            _ = try read("resource \"aws_security_group\" \"x\" {\n  name = [\n}\n")
            Issue.record("a syntax error is a ReadError")
        } catch let error as ReadError {
            #expect(
                error.diagnostics.first?.message == "main.tf:3: expected an expression, found '}'")
        }
        do {
            _ = try Self.drift(
                [
                    InputText(name: "a.tf", contents: "variable \"x\" {}\n"),
                    InputText(name: "b.tf", contents: "\n\nvariable \"x\" {}\n"),
                ], try ExampleTopology.topology([]))
            Issue.record("a variable declared twice is a ReadError")
        } catch let error as ReadError {
            #expect(
                error.diagnostics.first?.message
                    == "b.tf:3: the variable 'x' is declared twice (first at a.tf:1)")
        }
    }
}
