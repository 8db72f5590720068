import Foundation
import Testing
import TopologyModel

@testable import Emitters

@Suite struct TerraformEmitterTests {
    private func module(_ configure: (inout TopologySpec) -> Void = { _ in }) throws -> [String:
        String]
    {
        var spec = TopologySpec()
        configure(&spec)
        let rendering = try TerraformEmitter().render(try spec.resolve().topology)
        return Dictionary(uniqueKeysWithValues: rendering.files.map { ($0.name, $0.contents) })
    }

    @Test func writesTheFourFilesOfAModule() throws {
        let files = try module()
        #expect(files.keys.sorted() == ["main.tf", "outputs.tf", "variables.tf", "versions.tf"])
        #expect(files["versions.tf"]?.contains("source  = \"hashicorp/aws\"") == true)
    }

    @Test func rulesAreKeyedByFlowPortsAndPeerNeverByPosition() throws {
        let main = try #require(try module()["main.tf"])
        #expect(main.contains("for_each = local.ingress_rules"))
        #expect(main.contains("\"${entries[0].flow} ${entries[0].protocol}/"))
        #expect(!main.contains("count"))
        #expect(!main.contains("count.index"))
        #expect(
            main.contains(
                "referenced_security_group_id = try(aws_security_group.this[each.value.peer_group].id, null)"
            ))
    }

    @Test func everyExternalNodeTheRulesReachHasAValidatedVariable() throws {
        let variables = try #require(
            try module {
                $0.prefixLists = [Written("object-storage=pl-63a5400a", at: "--prefix-list")]
            }[
                "variables.tf"])
        for name in [
            "vpc_id", "name_prefix", "tags", "postgres_port", "mqtt_port", "infrastructure_ports",
            "clients_cidrs", "object_storage_prefix_list_ids", "vcs_cidrs",
            "container_registry_cidrs",
            "infrastructure_cidrs",
        ] {
            #expect(variables.contains("variable \"\(name)\" {"), "\(name)")
        }
        #expect(!variables.contains("variable \"object_storage_cidrs\""))
        #expect(!variables.contains("variable \"dns_cidrs\""), "security groups do not filter DNS")
        #expect(variables.contains("default     = [\"pl-63a5400a\"]"))
        #expect(variables.components(separatedBy: "validation {").count - 1 == 10)
    }

    @Test func withoutAVPCTheVariableIsRequired() throws {
        let variables = try #require(try module()["variables.tf"])
        let vpc = try #require(variables.components(separatedBy: "variable \"name_prefix\"").first)
        #expect(!vpc.contains("default     ="))
        let given = try #require(
            try module { $0.vpcID = Written("vpc-0a1b2c3d", at: "--vpc-id") }["variables.tf"])
        #expect(given.contains("default     = \"vpc-0a1b2c3d\""))
    }

    @Test func iotCoreHasNoMQTTPortVariable() throws {
        let files = try module {
            $0.withSQS = Written(true, at: "--with-sqs")
            $0.withIoTCore = Written(true, at: "--with-iot-core")
        }
        #expect(files["variables.tf"]?.contains("variable \"mqtt_port\"") == false)
        #expect(files["main.tf"]?.contains("var.mqtt_port") == false)
    }

    @Test func outputsNameEveryGroupAfterItsNode() throws {
        let outputs = try #require(try module()["outputs.tf"])
        for node in ["server", "drain", "scheduler", "worker", "lb", "postgres"] {
            #expect(outputs.contains("output \"\(node)_security_group_id\" {"))
        }
        #expect(outputs.contains("output \"security_group_ids\" {"))
    }

    @Test func hclStringsEscapeQuotesBackslashesAndInterpolation() {
        #expect(HCLWriter.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(HCLWriter.quoted("${x} and %{y}") == #""$${x} and %%{y}""#)
        #expect(HCLWriter.quoted("$5 {}") == #""$5 {}""#)
    }

    @Test func attributesAreAlignedAsTerraformFmtAlignsThem() {
        var writer = HCLWriter()
        writer.block("variable \"x\"") { writer in
            writer.attributes([("type", "string"), ("description", "\"d\"")])
        }
        #expect(
            writer.text == "variable \"x\" {\n  type        = string\n  description = \"d\"\n}\n")
    }
}
