import Emitters
import TopologyModel

/// Turns the arguments after the program name into an ``Invocation``. Pure: it reads no files
/// and prints nothing.
///
/// `generate` is the default subcommand, so `topogen --target k8s --with-sqs` is
/// `topogen generate --target k8s --with-sqs`. Values follow their option as the next argument
/// or after `=`; a repeated single-value option keeps its last value, as in swift-argument-parser.
struct CommandLineParser: Sendable {
    /// The version `--version` prints.
    static let version = "0.1.0"

    func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        var arguments = arguments[...]
        var subcommand = Subcommand.generate
        if let first = arguments.first, !first.hasPrefix("-") {
            guard let named = Subcommand(rawValue: first) else {
                throw UsageError(
                    "unknown subcommand '\(first)'",
                    hint: closestMatch(to: first, in: Subcommand.allCases.map(\.rawValue)).map {
                        "did you mean '\($0)'?"
                    })
            }
            subcommand = named
            arguments = arguments.dropFirst()
        } else if arguments.first == "--version" {
            guard arguments.count == 1 else {
                throw UsageError("'--version' takes no other arguments")
            }
            return .version
        } else if arguments.isEmpty || arguments.allSatisfy({ $0 == "-h" || $0 == "--help" }) {
            return .help(nil)
        }
        if subcommand == .help {
            guard let topic = arguments.first else { return .help(nil) }
            guard let named = Subcommand(rawValue: topic), arguments.count == 1 else {
                let names = Subcommand.allCases.map(\.rawValue)
                throw UsageError(
                    "unknown subcommand '\(arguments.joined(separator: " "))'",
                    hint: closestMatch(to: topic, in: names).map { "did you mean '\($0)'?" }
                        ?? "subcommands are: \(names.joined(separator: ", "))",
                    subcommand: .help)
            }
            return .help(named)
        }
        let values = try scan(arguments, for: subcommand)
        if values.has(.help) { return .help(subcommand) }
        if subcommand == .`init` {
            let output = values.last(.initOutput).flatMap { $0 == "-" ? nil : $0 }
            if output?.isEmpty == true {
                throw UsageError(
                    "invalid value '' for '\(OptionSpec.initOutput.usage)'",
                    hint: "name a file, or '-' for stdout", subcommand: .`init`)
            }
            return .`init`(InitRequest(output: output, force: values.has(.force)))
        }
        let spec = try topologySpec(values, subcommand: subcommand)
        if values.last(.topology)?.isEmpty == true {
            throw UsageError(
                "invalid value '' for '\(OptionSpec.topology.usage)'",
                hint: "name a YAML or JSON file, or '-' for stdin", subcommand: subcommand)
        }
        let model = ModelSource(file: values.last(.topology), flags: spec)
        switch subcommand {
        case .generate:
            guard let target = try target(values, subcommand: subcommand) else {
                throw UsageError(
                    "missing '--target <target>'",
                    hint:
                        "choose one of: \(Format.allCases.map(\.rawValue).joined(separator: ", "))",
                    subcommand: subcommand)
            }
            let role = try role(values, target: target, subcommand: .generate)
            // `-o -` is stdout, as `-` is for most tools.
            let outputDirectory = values.last(.output).flatMap { $0 == "-" ? nil : $0 }
            if outputDirectory?.isEmpty == true {
                throw UsageError(
                    "invalid value '' for '\(OptionSpec.output.usage)'",
                    hint: "name a directory, or '-' for stdout", subcommand: .generate)
            }
            if target.needsDirectory && outputDirectory == nil {
                throw UsageError(
                    "'--target \(target.rawValue)' writes a module, which is a directory of files",
                    hint: "give the module's directory with '-o <directory>'", subcommand: .generate
                )
            }
            if target.hasRoles && role == nil && (outputDirectory == nil) {
                throw UsageError(
                    "'--target \(target.rawValue)' writes one file per host; choose one with '--role <role>' or write them all with '-o <directory>'",
                    hint: Self.rolesHint(model), subcommand: .generate)
            }
            return .generate(
                GenerateRequest(
                    target: target, model: model, outputDirectory: outputDirectory, role: role))
        case .flows:
            var format = FlowsFormat.table
            if let text = values.last(.format) {
                guard let named = FlowsFormat(rawValue: text) else {
                    throw invalidValue(
                        text, for: .format, choices: FlowsFormat.allCases.map(\.rawValue),
                        subcommand: subcommand)
                }
                format = named
            }
            return .flows(
                FlowsRequest(
                    target: try target(values, subcommand: subcommand), model: model,
                    format: format))
        case .diff:
            return .diff(try diffRequest(values, model: model))
        case .graph:
            var format = GraphFormat.mermaid
            if let text = values.last(.format) {
                guard let named = GraphFormat(rawValue: text) else {
                    throw invalidValue(
                        text, for: .graphFormat, choices: GraphFormat.allCases.map(\.rawValue),
                        subcommand: subcommand)
                }
                format = named
            }
            return .graph(GraphRequest(model: model, format: format))
        case .help, .`init`:
            return .help(nil)
        }
    }

    /// The roles of the command line's installation, for hints; a topology file's are
    /// checked when it is read.
    static func rolesHint(_ model: ModelSource) -> String {
        model.file == nil
            ? "roles: \(Node.components.map(\.rawValue).joined(separator: ", "))"
            : "roles: the topology's components, such as server or a worker pool's 'worker-NAME'"
    }

    private func diffRequest(_ values: ScannedValues, model: ModelSource) throws(UsageError)
        -> DiffRequest
    {
        let formats = Format.allCases.map(\.rawValue).joined(separator: ", ")
        guard let target = try target(values, subcommand: .diff) else {
            throw UsageError(
                "missing '--target <target>'", hint: "choose one of: \(formats)", subcommand: .diff)
        }
        let against = values.all(.against)
        guard !against.isEmpty else {
            throw UsageError(
                "missing '--against <path>'",
                hint: "name the deployed rules to compare, for example the output of "
                    + Self.exportHint(target),
                subcommand: .diff)
        }
        if let empty = against.first(where: \.isEmpty) {
            throw invalidValue(empty, for: .against, choices: [], subcommand: .diff)
        }
        let role = try role(values, target: target, subcommand: .diff)
        if target.hasRoles && role == nil {
            throw UsageError(
                "'--target \(target.rawValue)' compares the rules of one host; say which with '--role <role>'",
                hint: Self.rolesHint(model), subcommand: .diff)
        }
        var groups: [(node: String, group: String)] = []
        for text in values.all(.group) {
            guard target == .aws || target == .terraform else {
                throw UsageError(
                    "'--group' does not apply to '--target \(target.rawValue)'",
                    hint: "only the aws and terraform targets have security groups",
                    subcommand: .diff)
            }
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw UsageError(
                    "invalid value '\(text)' for '\(OptionSpec.group.usage)'",
                    hint: target == .aws
                        ? "write NODE=GROUP-ID, for example 'server=sg-0123456789abcdef0'"
                        : "write NODE=ADDRESS, for example 'server=aws_security_group.api'",
                    subcommand: .diff)
            }
            groups.append((String(parts[0]), String(parts[1])))
        }
        var format = DiffFormat.text
        if let text = values.last(.format) {
            guard let named = DiffFormat(rawValue: text) else {
                throw invalidValue(
                    text, for: .diffFormat, choices: DiffFormat.allCases.map(\.rawValue),
                    subcommand: .diff)
            }
            format = named
        }
        return DiffRequest(
            target: target, model: model, against: against, role: role, groups: groups,
            format: format)
    }

    /// The command that prints a target's deployed rules, for hints.
    static func exportHint(_ target: Format) -> String {
        switch target {
        case .kubernetes: "'kubectl get networkpolicy -A -o yaml'"
        case .iptables: "'iptables-save' and 'ip6tables-save'"
        case .nftables: "'nft list ruleset'"
        case .aws: "'aws ec2 describe-security-groups'"
        case .terraform: "a directory of .tf files"
        }
    }

    private func role(_ values: ScannedValues, target: Format, subcommand: Subcommand)
        throws(UsageError) -> String?
    {
        guard let text = values.last(.role) else { return nil }
        guard target.hasRoles else {
            let targets = Format.allCases.filter(\.hasRoles).map(\.rawValue)
            throw UsageError(
                "'--role' does not apply to '--target \(target.rawValue)'",
                hint:
                    "only targets with one file per host take it: \(targets.joined(separator: ", "))",
                subcommand: subcommand)
        }
        return text
    }

    /// The aliases `--target` accepts beside the formats' names.
    private static let targetAliases: [String: Format] = ["kubernetes": .kubernetes]

    private func target(_ values: ScannedValues, subcommand: Subcommand) throws(UsageError)
        -> Format?
    {
        guard let text = values.last(.target) else { return nil }
        if let format = Format(rawValue: text) ?? Self.targetAliases[text] { return format }
        throw UsageError(
            "unknown target '\(text)'",
            hint: closestMatch(to: text, in: Format.allCases.map(\.rawValue)).map {
                "did you mean '\($0)'?"
            } ?? "choose one of: \(Format.allCases.map(\.rawValue).joined(separator: ", "))",
            subcommand: subcommand)
    }

    private func invalidValue(
        _ text: String, for option: OptionSpec, choices: [String], subcommand: Subcommand
    ) -> UsageError {
        UsageError(
            "invalid value '\(text)' for '\(option.usage)'",
            hint: closestMatch(to: text, in: choices).map { "did you mean '\($0)'?" }
                ?? "choose one of: \(choices.joined(separator: ", "))",
            subcommand: subcommand)
    }

    private func topologySpec(_ values: ScannedValues, subcommand: Subcommand) throws(UsageError)
        -> TopologySpec
    {
        var spec = TopologySpec()
        func flag(_ option: OptionSpec) -> Written<Bool>? {
            values.has(option) ? Written(true, at: option.name) : nil
        }
        func single(_ option: OptionSpec) -> Written<String>? {
            values.last(option).map { Written($0, at: option.name) }
        }
        spec.withSQS = flag(.withSQS)
        spec.withIoTCore = flag(.withIoTCore)
        spec.withKMS = flag(.withKMS)
        spec.postgresPort = single(.postgresPort)
        spec.mqttPort = single(.mqttPort)
        spec.infrastructurePorts = values.all(.infrastructurePort).map {
            Written($0, at: OptionSpec.infrastructurePort.name)
        }
        spec.workers = single(.workers)
        spec.namespace = single(.namespace)
        spec.workerNamespace = single(.workerNamespace)
        spec.ingressNamespace = single(.ingressNamespace)
        spec.vpcID = single(.vpcID)
        spec.namePrefix = single(.namePrefix)
        spec.maxRules = single(.maxRules)
        spec.prefixLists = values.all(.prefixList).map {
            Written($0, at: OptionSpec.prefixList.name)
        }
        for text in values.all(.allowSSHFrom) {
            let cidrs = text.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0)
            }
            spec.addresses.append(
                AddressEntry(
                    node: Node.admin.rawValue, cidrs: cidrs == [""] ? [] : cidrs,
                    origin: OptionSpec.allowSSHFrom.name))
        }
        for text in values.all(.cidr) {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw UsageError(
                    "invalid value '\(text)' for '\(OptionSpec.cidr.usage)'",
                    hint: "write NODE=CIDR[,CIDR...], for example 'postgres=10.0.0.0/16'",
                    subcommand: subcommand)
            }
            let cidrs = text[text.index(after: equals)...].split(
                separator: ",", omittingEmptySubsequences: false
            ).map { String($0) }
            spec.addresses.append(
                AddressEntry(
                    node: String(text[..<equals]),
                    cidrs: cidrs == [""] ? [] : cidrs,
                    origin: OptionSpec.cidr.name))
        }
        return spec
    }

    /// Splits the arguments into option values, checking every spelling.
    private func scan(_ arguments: ArraySlice<String>, for subcommand: Subcommand)
        throws(UsageError) -> ScannedValues
    {
        let options = OptionSpec.options(for: subcommand)
        var values = ScannedValues()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                if index < arguments.endIndex {
                    throw UsageError(
                        "unexpected argument '\(arguments[index])'", subcommand: subcommand)
                }
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                throw UsageError(
                    "unexpected argument '\(argument)'",
                    hint: subcommand == .generate && Subcommand(rawValue: argument) != nil
                        ? "a subcommand comes first: 'topogen \(argument) ...'" : nil,
                    subcommand: subcommand)
            }
            var spelling = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                spelling = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            } else if !argument.hasPrefix("--"), argument.count > 2 {
                // `-oDIR`: a short option with its value attached.
                spelling = String(argument.prefix(2))
                inlineValue = String(argument.dropFirst(2))
            }
            guard
                let option = options.first(where: {
                    $0.name == spelling || $0.short.map { "-\($0)" } == spelling
                })
            else {
                let names = options.map(\.name)
                throw UsageError(
                    "unknown option '\(spelling)'",
                    hint: closestMatch(to: spelling, in: names).map { "did you mean '\($0)'?" },
                    subcommand: subcommand)
            }
            guard option.valueName != nil else {
                if inlineValue != nil {
                    throw UsageError("'\(option.name)' takes no value", subcommand: subcommand)
                }
                values.record(option, nil)
                continue
            }
            if let inlineValue {
                values.record(option, inlineValue)
            } else if index < arguments.endIndex,
                !arguments[index].hasPrefix("-")
                    || arguments[index] == "-"
            {
                values.record(option, arguments[index])
                index += 1
            } else {
                throw UsageError(
                    "missing value for '\(option.usage)'", subcommand: subcommand)
            }
        }
        return values
    }
}

/// The option values found on a command line, in order.
struct ScannedValues: Sendable {
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []

    mutating func record(_ option: OptionSpec, _ value: String?) {
        if let value {
            values[option.name, default: []].append(value)
        } else {
            flags.insert(option.name)
        }
    }

    func has(_ option: OptionSpec) -> Bool { flags.contains(option.name) }
    func last(_ option: OptionSpec) -> String? { values[option.name]?.last }
    func all(_ option: OptionSpec) -> [String] { values[option.name] ?? [] }
}
