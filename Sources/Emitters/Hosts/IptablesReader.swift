public import TopologyModel

/// Reads `iptables-save` and `ip6tables-save` output of a whole host, and topogen's own iptables scripts.
struct IptablesReader: RuleReader {
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        []
    }

    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        throw ReadError(diagnostics: [Diagnostic(.error, "not implemented yet")])
    }
}
