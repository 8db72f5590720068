public import TopologyModel

/// Reads Kubernetes NetworkPolicies: multi-document YAML manifests, and `kubectl get networkpolicy -A -o yaml` or `-o json` output.
struct KubernetesReader: RuleReader {
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        []
    }

    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        throw ReadError(diagnostics: [Diagnostic(.error, "not implemented yet")])
    }
}
