public import TopologyModel

/// Reads A directory of Terraform `.tf` files: topogen's module and hand-written security groups.
struct TerraformReader: RuleReader {
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        []
    }

    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        throw ReadError(diagnostics: [Diagnostic(.error, "not implemented yet")])
    }
}
