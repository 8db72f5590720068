public import TopologyModel

/// Renders the AWS security groups as a Terraform module: `versions.tf`, `variables.tf`,
/// `main.tf` and `outputs.tf`, for the AWS provider's `aws_security_group` and
/// `aws_vpc_security_group_ingress_rule` / `aws_vpc_security_group_egress_rule` resources.
///
/// The groups and rules are those of ``SecurityGroupEmitter`` (both targets build on the same
/// placements), so the module and `apply.sh` create the same groups. Each rule is one resource
/// with one peer, in a `for_each` keyed by the first flow it implements, its ports and its peer,
/// never by list position: `"server-postgres tcp/5432 postgres"`,
/// `"server-object-storage tcp/443 0.0.0.0/0"`. Rules with the same protocol, ports and peer are
/// merged in `locals` at plan time, since the CIDRs are variables. Removing a flow changes only
/// the rules that carry it.
///
/// Variables: `vpc_id`, `name_prefix`, `tags`, the Postgres and MQTT ports, the infrastructure
/// ports of every worker pool (`infrastructure_ports` for the one pool of the command line,
/// `infrastructure_NAME_ports` for the pool `NAME` of a topology file), and what stands for
/// every external node the rules reach: its CIDRs (`NODE_cidrs`), or its prefix lists
/// (`NODE_prefix_list_ids`) and existing security groups (`NODE_security_group_ids`, for
/// example an RDS database's or a VPC endpoint's), each with a description, a type, the model's
/// value as its default, and a `validation` block. A rule to an existing group references it by
/// id; the module creates no group for a database given by its groups.
///
/// For example: `module "security_groups" { source = "./sg", vpc_id = "vpc-0a1b2c3d" }`, then
/// `module.security_groups.server_security_group_id`.
public struct TerraformEmitter: Emitter {
    /// Creates the emitter.
    public init() {}

    /// The scope of the AWS target: the same groups.
    public func scope(for topology: Topology) -> FlowScope {
        SecurityGroupEmitter().scope(for: topology)
    }

    /// Renders the module's four files.
    ///
    /// - Throws: ``RenderError`` when a group would pass the rule quota with the defaults.
    public func render(_ topology: Topology) throws(RenderError) -> Rendering {
        let aws = SecurityGroupEmitter()
        let (groups, diagnostics) = try aws.checkedGroups(topology, target: "terraform")
        let module = TerraformModule(
            topology: topology, groups: groups, placements: aws.placements(for: topology))
        return Rendering(
            files: [
                RenderedFile(name: "versions.tf", contents: module.versions),
                RenderedFile(name: "variables.tf", contents: module.variables),
                RenderedFile(name: "main.tf", contents: module.main),
                RenderedFile(name: "outputs.tf", contents: module.outputs),
            ],
            diagnostics: diagnostics)
    }
}
