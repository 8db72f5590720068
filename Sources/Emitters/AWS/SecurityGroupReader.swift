public import TopologyModel

/// Reads `aws ec2 describe-security-groups` output.
struct SecurityGroupReader: RuleReader {
    /// What the model requires of the groups: ``SecurityGroupPermissions/expected(for:)``.
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        SecurityGroupPermissions.expected(for: topology)
    }

    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        throw ReadError(diagnostics: [Diagnostic(.error, "not implemented yet")])
    }
}
