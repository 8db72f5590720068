/// A small deterministic pseudo-random generator (SplitMix64), so that every generated case is
/// replayed from its seed alone, with no global state.
///
/// For example: `var random = SplitMix64(seed: 42)` gives the same `next()` values on every run.
struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The state, advanced by the golden gamma on every draw.
    private var state: UInt64

    /// A generator seeded with `seed`.
    init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Whether a draw with probability `percent` in 100 succeeds.
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }

    /// One element of a non-empty array.
    mutating func pick<T>(_ values: [T]) -> T {
        values[Int.random(in: 0..<values.count, using: &self)]
    }

    /// A random subset of `values`, in their order.
    mutating func subset<T>(_ values: [T], percent: Int = 50) -> [T] {
        values.filter { _ in chance(percent) }
    }
}

/// Random valid topology files: options, ports, CIDRs of both families (host bits clear),
/// several worker pools in and out of the cluster with namespaces, pod labels and
/// infrastructure ports and addresses of their own, an optional VCS gateway and egress proxy,
/// private endpoints, extra egress with reasons, and security groups, prefix lists and pod
/// selectors of external nodes.
///
/// The text is a topology file (YAML), so a failing case can be printed and replayed with
/// `topogen --topology`; it is decoded and resolved by the real decoder and resolver, and a
/// failure to resolve is a bug of this generator.
///
/// For example: `TopologyGenerator.file(seed: 7)` always gives the same file.
enum TopologyGenerator {
    /// The topology file of one seed.
    static func file(seed: UInt64) -> String {
        var random = SplitMix64(seed: seed)
        return generate(&random)
    }

    /// A CIDR with its host bits clear: IPv4 inside documentation and private ranges, IPv6
    /// inside `2001:db8::/32` or `fd00::/8`; now and then a whole family.
    static func cidr(_ random: inout SplitMix64) -> String {
        if random.chance(4) { return random.pick(["0.0.0.0/0", "::/0"]) }
        if random.chance(65) {
            let bases: [(UInt32, Int)] = [
                (0x0A00_0000, 8), (0xAC10_0000, 12), (0xC000_0200, 24), (0xC633_6400, 24),
                (0xCB00_7100, 24), (0xC0A8_0000, 16),
            ]
            let (base, minimum) = random.pick(bases)
            let prefix = Int.random(in: minimum...32, using: &random)
            let free = UInt32.random(in: 0...UInt32.max, using: &random) >> UInt32(minimum)
            let host = prefix == 32 ? 0 : (UInt32.max >> UInt32(prefix))
            let address = (base | (minimum == 32 ? 0 : free)) & ~host
            let octets = (0..<4).map { String((address >> UInt32(24 - 8 * $0)) & 0xFF) }
            return "\(octets.joined(separator: "."))/\(prefix)"
        }
        let (base, minimum): (UInt128, Int) =
            random.chance(50) ? (UInt128(0x2001_0db8) << 96, 32) : (UInt128(0xfd) << 120, 8)
        let prefix = Int.random(in: minimum...128, using: &random)
        let free =
            (UInt128(random.next()) << 64 | UInt128(random.next())) >> UInt128(minimum)
        let host: UInt128 = prefix == 128 ? 0 : (UInt128.max >> UInt128(prefix))
        let address = (base | free) & ~host
        let groups = (0..<8).map {
            String(UInt16(truncatingIfNeeded: address >> UInt128(112 - 16 * $0)), radix: 16)
        }
        return "\(groups.joined(separator: ":"))/\(prefix)"
    }

    /// An AWS id: the prefix and 8 lower-case hexadecimal digits.
    static func awsID(_ prefix: String, _ random: inout SplitMix64) -> String {
        prefix + String(UInt32.random(in: 0x1000_0000...UInt32.max, using: &random), radix: 16)
    }

    /// A port that is not the server's HTTP port.
    static func port(_ random: inout SplitMix64) -> UInt16 {
        let port =
            random.chance(30)
            ? random.pick([443, 5432, 1984, 8080, 22, 53, 6443, 3128])
            : UInt16.random(in: 1...65535, using: &random)
        return port == 1983 ? 1982 : port
    }

    /// A YAML flow list of strings, quoted.
    private static func list(_ values: [String]) -> String {
        "[" + values.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    /// The lines of where a node is, indented: CIDRs, and, for external services, security
    /// groups, prefix lists and (for services the components reach) pods of the cluster.
    private static func place(
        _ random: inout SplitMix64, indent: String, external: Bool, pods: String?,
        cidrs percent: Int = 60
    ) -> [String] {
        var lines: [String] = []
        if random.chance(percent) {
            let cidrs = (0..<Int.random(in: 1...3, using: &random)).map { _ in cidr(&random) }
            lines.append("\(indent)cidrs: \(list(cidrs))")
        }
        if external && random.chance(20) {
            let groups = (0..<Int.random(in: 1...2, using: &random)).map { _ in
                awsID("sg-", &random)
            }
            lines.append("\(indent)securityGroups: \(list(groups))")
        }
        if external && random.chance(15) {
            let entries = Int.random(in: 1...5, using: &random)
            lines.append("\(indent)prefixLists: \(list([awsID("pl-", &random) + ":\(entries)"]))")
        }
        if let pods, random.chance(20) {
            lines.append(
                "\(indent)kubernetes: {namespace: \(pods), labels: {app: \(pods)-app}}")
        }
        return lines
    }

    /// A whole topology file.
    private static func generate(_ random: inout SplitMix64) -> String {
        var lines: [String] = ["# generated by TopologyGenerator"]
        let sqs = random.chance(50)
        let iot = sqs && random.chance(50)
        let kms = random.chance(50)
        lines += ["options:", "  sqs: \(sqs)", "  iotCore: \(iot)", "  kms: \(kms)"]
        lines.append("ports:")
        lines.append("  postgres: \(port(&random))")
        lines.append("  mqtt: \(port(&random))")
        let backend = random.chance(60) ? "spacelift" : "sl-backend"
        let ingress: String? = random.chance(40) ? "ingress-nginx" : nil
        lines += ["kubernetes:", "  namespace: \(backend)"]
        if let ingress { lines.append("  ingressNamespace: \(ingress)") }
        lines += ["aws:", "  maxRules: 1000"]
        if random.chance(50) { lines.append("  namePrefix: \(random.pick(["prod", "sl-test"]))") }
        if random.chance(30) { lines.append("  vpcId: \(awsID("vpc-", &random))") }

        var counter = 0
        func namespace() -> String {
            counter += 1
            return "ns-\(counter)"
        }
        var privateCandidates = ["object-storage", "vcs", "container-registry"]
        if sqs { privateCandidates.append("sqs") }
        if iot { privateCandidates.append("iot-core") }
        if kms { privateCandidates.append("kms") }
        let privates = random.subset(privateCandidates, percent: 25)
        var nodeLines: [String] = []
        for node in ["clients", "lb", "admin", "dns", "postgres"] + privateCandidates
        where !privates.contains(node) {
            let external = !["lb", "admin"].contains(node)
            let pods = !["clients", "lb", "admin", "dns"].contains(node)
            let placed = place(
                &random, indent: "    ", external: external, pods: pods ? namespace() : nil,
                cidrs: node == "admin" ? 40 : 50)
            if !placed.isEmpty { nodeLines += ["  \(node):"] + placed }
        }
        if !nodeLines.isEmpty { lines += ["nodes:"] + nodeLines }
        var endpointLines: [String] = []
        for node in privates {
            let placed = place(&random, indent: "    ", external: true, pods: namespace())
            endpointLines +=
                ["  \(node):"] + (placed.isEmpty ? ["    cidrs: [\"10.9.0.0/16\"]"] : placed)
        }
        if !endpointLines.isEmpty { lines += ["privateEndpoints:"] + endpointLines }

        let names = ["eu", "us-1", "dc", "edge", "a9"].shuffled(using: &random)
        let poolCount = Int.random(in: 1...4, using: &random)
        var components = ["server", "drain", "scheduler"]
        lines.append("workerPools:")
        let shared = random.chance(50) ? "spacelift-workers" : "workers-shared"
        for name in names.prefix(poolCount) {
            components.append("worker-\(name)")
            let inCluster = random.chance(60)
            lines.append("  - name: \(name)")
            lines.append("    placement: \(inCluster ? "in-cluster" : "external")")
            if inCluster {
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    lines.append("    kubernetes: {namespace: \(shared), labels: {pool: \(name)}}")
                case 1:
                    lines.append("    kubernetes: {namespace: workers-\(name)}")
                default:
                    lines.append(
                        "    kubernetes: {namespace: workers-\(name), labels: {tier: runs-\(name)}}"
                    )
                }
            }
            lines += place(&random, indent: "    ", external: false, pods: nil, cidrs: 50)
            lines.append("    infrastructure:")
            let ports = (0..<Int.random(in: 1...3, using: &random)).map { _ -> String in
                let low = port(&random)
                guard random.chance(30), low < 65000 else { return "\(low)" }
                return "\(low)-\(low + UInt16.random(in: 1...500, using: &random))"
            }
            lines.append("      ports: \(list(ports))")
            lines += place(&random, indent: "      ", external: true, pods: namespace())
        }
        if random.chance(40) {
            components.append("vcs-gateway")
            let grpc = port(&random)
            var http = port(&random)
            if http == grpc { http = grpc == 1 ? 2 : grpc - 1 }
            lines += ["vcsGateway:", "  grpcPort: \(grpc)", "  httpPort: \(http)"]
            lines += place(&random, indent: "  ", external: false, pods: nil, cidrs: 40)
            let balancer = place(&random, indent: "    ", external: false, pods: nil, cidrs: 40)
            if !balancer.isEmpty { lines += ["  loadBalancer:"] + balancer }
        }
        if random.chance(40) {
            lines += ["egressProxy:", "  port: \(port(&random))"]
            lines += place(&random, indent: "  ", external: true, pods: nil)
        }
        let extras = Int.random(in: 0...2, using: &random)
        if extras > 0 { lines.append("extraEgress:") }
        for index in 0..<extras {
            lines.append("  - name: extra-\(index)")
            var from = random.subset(components)
            if from.isEmpty { from = [random.pick(components)] }
            lines.append("    from: \(list(from))")
            let ports = (0..<Int.random(in: 1...2, using: &random)).map { _ -> String in
                let low = port(&random)
                let range = random.chance(25) && low < 65000 ? "-\(low + 7)" : ""
                let transport = random.pick(["", "", "/tcp", "/udp"])
                return "\(low)\(range)\(transport)"
            }
            lines.append("    ports: \(list(ports))")
            lines.append("    reason: \"Reason \(index): telemetry, backups & more\"")
            lines += place(&random, indent: "    ", external: true, pods: namespace())
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
