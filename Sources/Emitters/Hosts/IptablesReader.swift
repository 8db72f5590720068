import TopologyModel

/// Reads `iptables-save` and `ip6tables-save` output of a whole host, and topogen's own iptables
/// scripts, into what the host's input, output and (on the worker, for its containers) forward
/// paths allow new connections to do.
///
/// Inputs: any number of files, each `iptables-save` output, `ip6tables-save` output, both
/// concatenated, or a script topogen wrote (`worker.sh`), whose filter tables are read as
/// applying it to a fresh host leaves them (see ``IptablesSaveDocument``). When only one family
/// was given, only its addresses are compared, with a warning.
///
/// Only the `filter` table is compared: `nat` does not filter, and a `DROP` in `raw`, `mangle`
/// or `security` is not evaluated (a warning says where the first is). The paths start at the
/// built-in chains `INPUT`, `OUTPUT` and `FORWARD`, the latter for workers only (the other
/// components run no containers), and follow jumps and gotos into any chain (Docker's, kube-proxy's,
/// topogen's) as ``HostProgram`` describes; which chain a rule is written in does not matter.
/// Targets: `ACCEPT`; `DROP` and `REJECT` (both deny); `RETURN`; jumps and gotos; targets that
/// decide nothing (`LOG`, `NFLOG`, `MARK`, `CONNMARK`, `TCPMSS`, ...) are passed over; any
/// other target (`NFQUEUE`, ...) makes the rule unreadable. What a rule matches is read as
/// ``IptablesSaveRule`` and ``HostMatch`` say.
///
/// For example: `-P INPUT DROP` with `-A INPUT -p tcp --dport 22 -j ACCEPT` on the server reads
/// as the permission "server ingress tcp 22 from any address", extra unless SSH is a flow.
struct IptablesReader: RuleReader {
    /// The permissions topogen's iptables script for `options.role` must grant.
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        HostPermissions.expected(IptablesEmitter(), topology: topology, role: options.role)
    }

    /// Reads iptables-save output or topogen's scripts of one host.
    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        let role = try HostPermissions.role(options, topology: topology, target: "iptables")
        var filters: [IPFamily: IptablesSaveDocument.Table] = [:]
        var families: [IPFamily: SourceLocation] = [:]
        var diagnostics: [Diagnostic] = []
        for input in inputs {
            let document = try IptablesSaveDocument(input)
            if let scriptRole = document.scriptRole, scriptRole != role.name {
                diagnostics.append(
                    Diagnostic(
                        .warning,
                        "'\(input.name)' is topogen's firewall of the \(scriptRole), read as the \(role)'s",
                        hint: "give '--role \(scriptRole)' to compare it with its own flows"))
            }
            for (family, location) in document.headers where families[family] == nil {
                families[family] = location
            }
            for table in document.tables {
                if table.name == "filter", let family = table.family {
                    if let earlier = filters[family] {
                        throw ReadError(
                            table.location,
                            "a second \(family == .ipv4 ? "IPv4" : "IPv6") filter table; the first is at \(earlier.location)",
                            hint: "give each of iptables-save and ip6tables-save once")
                    }
                    filters[family] = table
                    if families[family] == nil { families[family] = table.location }
                } else if let drop = table.firstDrop, table.name != "nat" {
                    diagnostics.append(
                        Diagnostic(
                            .warning,
                            "\(drop): the '\(table.name)' table drops packets; topogen diff compares the filter table only"
                        ))
                }
            }
        }
        guard !families.isEmpty else {
            throw ReadError(
                SourceLocation(file: inputs.first?.name ?? "", line: 1),
                "no table of iptables-save output",
                hint:
                    "give the output of iptables-save and ip6tables-save, or a script topogen wrote"
            )
        }
        var permissions: [Permission] = []
        var unreadable: [Unreadable] = []
        let paths: [HostRule.Path] =
            role.role == .worker ? [.input, .output, .forward] : [.input, .output]
        for family in IPFamily.allCases {
            guard let header = families[family] else { continue }
            let program: HostProgram
            var bases: [HostRule.Path: HostProgram.Base] = [:]
            if let table = filters[family] {
                (program, bases) = try Self.program(table, family: family)
            } else {
                program = HostProgram(chains: [])
            }
            for path in paths {
                let subject = Subject(role, HostPermissions.direction(path))
                do {
                    let result = try program.permissions(
                        bases: bases[path].map { [$0] } ?? [],
                        unfiltered: (header, "no filter table"), path: path, family: family,
                        subject: subject)
                    permissions += result.permissions
                    unreadable += result.unreadable
                    for diagnostic in result.diagnostics where !diagnostics.contains(diagnostic) {
                        diagnostics.append(diagnostic)
                    }
                } catch {
                    throw ReadError(
                        filters[family]?.location ?? header,
                        "the chains jump into each other too often to be compared (from chain '\(error.chain)')"
                    )
                }
            }
        }
        if families.count == 1, let family = families.keys.first {
            let (missing, tool) =
                family == .ipv4 ? ("IPv6", "ip6tables-save") : ("IPv4", "iptables-save")
            diagnostics.append(
                Diagnostic(
                    .warning, "no \(tool) output given: \(missing) is not compared",
                    hint: "give the output of \(tool) too, as another --against file"))
        }
        return DeployedRules(
            permissions: permissions, compared: HostPermissions.compared(Set(families.keys)),
            unreadable: HostPermissions.distinct(unreadable), diagnostics: diagnostics)
    }

    /// Targets that decide nothing: the packet goes on to the next rule.
    static let passingTargets: Set<String> = [
        "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "CLASSIFY", "DSCP", "TOS", "TCPMSS",
        "CHECKSUM", "TTL", "HL", "SET", "TEE", "AUDIT", "TRACE", "CONNSECMARK", "SECMARK",
        "IDLETIMER", "LED", "RATEEST", "CT", "NOTRACK", "HMARK", "TCPOPTSTRIP", "ECN",
        "IPV4OPTSSTRIP",
    ]

    /// Targets that decide in ways topogen does not read.
    static let unreadTargets: Set<String> = [
        "NFQUEUE", "QUEUE", "SYNPROXY", "TARPIT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT",
        "NETMAP", "TPROXY", "CLUSTERIP", "DNPT", "SNPT", "MIRROR", "DELUDE", "CHAOS",
    ]

    /// The chains and base chains of one filter table.
    static func program(_ table: IptablesSaveDocument.Table, family: IPFamily) throws(ReadError)
        -> (HostProgram, [HostRule.Path: HostProgram.Base])
    {
        var chains: [HostProgram.Chain] = []
        var index: [String: Int] = [:]
        var policies: [String: (policy: Substring, location: SourceLocation)] = [:]
        for declared in table.chains {
            let name = String(declared.name)
            if index[name] != nil {
                throw ReadError(declared.location, "chain '\(name)' is declared twice")
            }
            index[name] = chains.count
            chains.append(HostProgram.Chain(name: name, rules: []))
            policies[name] = (declared.policy, declared.location)
        }
        let builtIn: [(String, HostRule.Path)] = [
            ("INPUT", .input), ("OUTPUT", .output), ("FORWARD", .forward),
        ]
        for (name, _) in builtIn where index[name] == nil {
            index[name] = chains.count
            chains.append(HostProgram.Chain(name: String(name), rules: []))
        }
        if table.isHooked {
            for (name, path) in builtIn {
                let own = IptablesEmitter.chain(path)
                guard let target = index[own], let chain = index[name] else { continue }
                chains[chain].rules.append(
                    HostProgram.Rule(
                        match: HostMatch(), action: .jump(target), origin: table.location,
                        excerpt: "-A \(name) -j \(own) (as the script hooks it)", flows: []))
            }
        }
        var front: [Int: [HostProgram.Rule]] = [:]
        for (text, location) in table.rules {
            let rule = try IptablesSaveRule(text, family: family, location: location)
            guard let chain = index[rule.chain] else {
                throw ReadError(location, "chain '\(rule.chain)' is not declared")
            }
            let action: HostProgram.Action
            switch rule.target {
            case nil: action = .next
            case "ACCEPT": action = .accept
            case "DROP", "REJECT": action = .drop
            case "RETURN": action = .returns
            case let name?:
                if let target = index[name] {
                    action = rule.isGoto ? .goto(target) : .jump(target)
                } else if passingTargets.contains(name) {
                    action = .next
                } else if unreadTargets.contains(name) {
                    action = .unknown(
                        "'-j \(name)' is a target topogen diff does not read; the rule is not compared"
                    )
                } else {
                    throw ReadError(
                        location,
                        "'\(rule.isGoto ? "-g" : "-j") \(name)': chain '\(name)' is not declared",
                        hint: "declare it with ':\(name) - [0:0]' in the same table")
                }
            }
            let read = HostProgram.Rule(
                match: rule.match, action: action, origin: location,
                excerpt: rule.excerpt,
                flows: HostPermissions.flows(inComment: rule.match.comment))
            switch rule.insertAt {
            case nil:
                chains[chain].rules.append(read)
            case 1?:
                // Inserted first (the usual `-I CHAIN`): kept aside in reverse, to put in front
                // once, rather than moving every rule each time.
                front[chain, default: []].append(read)
            case let position?:
                if let kept = front.removeValue(forKey: chain) {
                    chains[chain].rules.insert(contentsOf: kept.reversed(), at: 0)
                }
                let at = min(max(position - 1, 0), chains[chain].rules.count)
                chains[chain].rules.insert(read, at: at)
            }
        }
        for (chain, kept) in front {
            chains[chain].rules.insert(contentsOf: kept.reversed(), at: 0)
        }
        let program = HostProgram(chains: chains)
        try program.checkLoops(file: table.location.file)
        var bases: [HostRule.Path: HostProgram.Base] = [:]
        for (name, path) in builtIn {
            guard let chain = index[name] else { continue }
            let declared = policies[name]
            let policy = table.isHooked ? "ACCEPT" : declared?.policy ?? "ACCEPT"
            guard policy == "ACCEPT" || policy == "DROP" else {
                throw ReadError(
                    declared?.location ?? table.location,
                    "'\(policy)' is no policy of a built-in chain (ACCEPT or DROP)")
            }
            let excerpt =
                table.isHooked || declared == nil
                ? "\(name) policy ACCEPT (a fresh host's)" : ":\(name) \(policy)"
            bases[path] = HostProgram.Base(
                chain: chain, policyAccepts: policy == "ACCEPT",
                origin: table.isHooked ? table.location : declared?.location ?? table.location,
                excerpt: excerpt)
        }
        return (program, bases)
    }
}

extension HostPermissions {
    /// The component host whose rules are read (`--role`): one of the topology's components,
    /// for example `server` or `worker-eu`.
    ///
    /// - Throws: ``ReadError`` without `--role`, or when it names no component of the topology.
    static func role(_ options: ReadOptions, topology: Topology, target: String) throws(ReadError)
        -> Node
    {
        let hint = "--role " + topology.components.map(\.name).joined(separator: "|")
        guard let role = options.role else {
            throw ReadError(diagnostics: [
                Diagnostic(
                    .error, "the \(target) target needs the role of the host whose rules these are",
                    hint: hint)
            ])
        }
        guard topology.components.contains(role) else {
            throw ReadError(diagnostics: [
                Diagnostic(.error, "'\(role)' is no component host of the topology", hint: hint)
            ])
        }
        return role
    }
}

extension HostProgram {
    /// Checks that no chain jumps or goes back into itself through other chains (the kernel
    /// refuses such rulesets; evaluating one would not end).
    ///
    /// - Throws: ``ReadError`` at the rule that closes a loop.
    func checkLoops(file: String) throws(ReadError) {
        var state = Array(repeating: 0, count: chains.count)  // 0 new, 1 on the path, 2 done
        for start in chains.indices where state[start] == 0 {
            var stack: [(chain: Int, position: Int)] = [(start, 0)]
            state[start] = 1
            while let (chain, position) = stack.last {
                let rules = chains[chain].rules
                guard position < rules.count else {
                    state[chain] = 2
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].position += 1
                let target: Int
                switch rules[position].action {
                case .jump(let next), .goto(let next): target = next
                default: continue
                }
                if state[target] == 1 {
                    let loop = stack.drop { $0.chain != target }
                    let path = loop.map { chains[$0.chain].name } + [chains[target].name]
                    throw ReadError(
                        rules[position].origin,
                        "chains jump in a loop: \(path.joined(separator: " -> "))")
                }
                if state[target] == 0 {
                    state[target] = 1
                    stack.append((target, 0))
                }
            }
        }
    }
}
