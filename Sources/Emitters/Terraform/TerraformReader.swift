import TopologyModel

/// Reads a directory of Terraform `.tf` files (topogen's own module, or hand-written
/// configurations) back into permissions, for `topogen diff --target terraform`. It reads the
/// configuration, not a state: what `terraform apply` would make of it.
///
/// - Every file is parsed (``HCLParser``) and evaluated (``HCLEvaluator``) as Terraform would
///   at plan time, as far as these files say: literals, variables with their defaults, locals,
///   `for_each` and `count` (`each.key`, `each.value`, `count.index`), `dynamic` blocks,
///   references between resources, `for` expressions, splats and the common functions.
///   Variables are taken at their defaults (`.tfvars` files are not read).
/// - Groups are `aws_security_group` resources, one per instance, named by their address
///   (`aws_security_group.server`, `aws_security_group.this["server"]`). Each is matched with
///   a node as ``GroupDirectory/match(_:topology:options:idExample:)`` says: by `--group
///   NODE=ADDRESS` (the address may also be a literal group id, `sg-...`, that rules use), or
///   by its `name`, `<prefix>-<node>`. A `name_prefix` of `<prefix>-<node>` or
///   `<prefix>-<node>-` counts as that name (the provider appends a unique suffix); a group
///   with neither gets a name from the provider and is matched only by `--group`. A group
///   whose name cannot be known (`"${var.env}-server"` without a default) is reported
///   unreadable unless `--group` names it.
/// - Files in Terraform's JSON syntax (`.tf.json`) are reported unreadable, not read.
/// - Rules: `ingress` and `egress` blocks of `aws_security_group` (also written as
///   `dynamic` blocks or as attributes, `ingress = [{...}]`), with `cidr_blocks`,
///   `ipv6_cidr_blocks`, `prefix_list_ids`, `security_groups` and `self`;
///   `aws_security_group_rule` (`type`, `source_security_group_id`, `self`, ...); and
///   `aws_vpc_security_group_ingress_rule` / `_egress_rule` (`cidr_ipv4`, `cidr_ipv6`,
///   `prefix_list_id`, `referenced_security_group_id`). Each peer is one ``GroupRule``, and
///   ``SecurityGroupPermissions`` (shared with the AWS reader) says what it allows.
/// - A group reference is the referenced resource (`aws_security_group.lb.id`), a literal id
///   (`sg-...`) or name, or a `data "aws_security_group"` that looks a group up by its `id` or
///   `name` (one that looks it up otherwise, by `filter` or tags, cannot be known). A group
///   that matches no node (a bastion's) has its rules left out; as a peer, it is a group of its
///   own. `aws_default_security_group` (the VPC's default group, no node's) is not read.
/// - A group without `egress` rules has no egress: the AWS provider removes the allow-all
///   egress rule AWS gives a new group ("NOTE on Egress rules" in the provider's
///   `aws_security_group` documentation), unlike a group created through the AWS API or
///   console, which the AWS reader sees with that rule.
/// - A value that matters (a port, a protocol, a peer, the rule's group) that cannot be known
///   from these files (a variable without default, a data source, a module output, an
///   attribute known only after apply, a function topogen does not evaluate) makes the rule
///   unreadable, with the rule's file and line and the cause: `'var.ports' has no default
///   (variables.tf:3); the rule is not compared`. Descriptions matter only for the flow ids
///   they name, and never make a rule unreadable.
/// - Module calls are not followed (a warning names them); a group with inline rules that
///   other rule resources add to gets a warning, since the provider's documentation says they
///   conflict (both are compared).
/// - Origins are the line of the rule block or resource; excerpts name the rule by address:
///   `aws_security_group.server ingress[0]`, `aws_security_group_rule.lb_https`,
///   `aws_vpc_security_group_egress_rule.this["server-postgres tcp/5432 postgres"]`.
///
/// For example: Spacelift's own configuration gives each component an `egress` block with
/// `from_port = 0`, `to_port = 0`, `protocol = "-1"` and `cidr_blocks = ["0.0.0.0/0"]`; the
/// reader turns it into "all protocols to 0.0.0.0/0" on that component's egress, which
/// ``Drift`` reports as broader than the component's flows, at the line of the `egress` block.
struct TerraformReader: RuleReader {
    /// What the model requires of the groups: the AWS target's
    /// (``SecurityGroupPermissions/expected(for:)``), since the module renders the same rules.
    func expectedPermissions(for topology: Topology, options: ReadOptions) -> [Permission] {
        SecurityGroupPermissions.expected(for: topology)
    }

    /// Reads every file of a configuration together.
    ///
    /// - Throws: ``ReadError`` for a syntax error, or a name declared twice, with its file
    ///   and line.
    func read(_ inputs: [InputText], topology: Topology, options: ReadOptions) throws(ReadError)
        -> DeployedRules
    {
        var files: [(name: String, body: HCLBody)] = []
        var skipped: [Unreadable] = []
        for input in inputs {
            if input.name.hasSuffix(".tf.json") {
                skipped.append(
                    Unreadable(
                        location: SourceLocation(file: input.name),
                        reason:
                            "Terraform's JSON syntax ('.tf.json') is not read; its rules are not compared"
                    ))
                continue
            }
            files.append((input.name, try HCLParser.parse(input)))
        }
        var reading = TerraformReading(
            configuration: try HCLConfiguration(files: files), topology: topology, options: options)
        var rules = reading.run()
        rules.unreadable = skipped + rules.unreadable
        return rules
    }

    /// A `--group` value as the reader writes addresses: `aws_security_group.this[server]`
    /// becomes `aws_security_group.this["server"]`.
    static func normalizedAddress(_ text: String) -> String {
        guard text.hasSuffix("]"), let open = text.firstIndex(of: "[") else { return text }
        let key = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard !key.isEmpty, !key.hasPrefix("\""), !key.allSatisfy(\.isNumber) else { return text }
        return "\(text[..<open])[\"\(key)\"]"
    }
}

/// The work of one read: the evaluator and what was found.
private struct TerraformReading {
    /// A rule that could not be read, and the group it belongs to when known.
    struct Pending {
        /// The rule's group, when known.
        var group: GroupReference?
        /// The rule's direction, when known.
        var direction: GroupRule.Direction?
        /// What to report.
        var unreadable: Unreadable
    }

    /// The attributes a rule is made of, evaluated.
    typealias Fields = [String: HCLValue]

    /// The model, for the group name prefix.
    let topology: Topology
    /// `--group`, addresses normalized.
    let options: ReadOptions
    /// The evaluator of the configuration.
    var evaluator: HCLEvaluator
    /// The groups found: `aws_security_group` instances and literal ids rules name.
    var declared: [DeclaredGroup] = []
    /// Their ids (addresses), to add each literal id once.
    var declaredIDs: Set<String> = []
    /// Groups whose name could not be evaluated, by index in ``declared``.
    var unnamed: [Int: HCLProblem] = [:]
    /// Every rule read, one per peer.
    var rules: [GroupRule] = []
    /// Rules that cannot be read, until the groups are matched with nodes.
    var pending: [Pending] = []
    /// Warnings.
    var diagnostics: [Diagnostic] = []
    /// Groups with inline rules, by `ADDRESS DIRECTION`.
    var inline: Set<String> = []
    /// The first rule resource that adds to each group and direction, by `ADDRESS DIRECTION`.
    var addedTo: [String: String] = [:]

    /// Starts a read; `--group` addresses are normalized.
    init(configuration: HCLConfiguration, topology: Topology, options: ReadOptions) {
        self.topology = topology
        var options = options
        options.groups = options.groups.mapValues(TerraformReader.normalizedAddress)
        self.options = options
        evaluator = HCLEvaluator(configuration)
    }

    /// Reads every group and rule, matches groups with nodes, and says what they allow.
    mutating func run() -> DeployedRules {
        let configuration = evaluator.configuration
        for (name, module) in configuration.modules.sorted(by: { $0.key < $1.key }) {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "\(module.location(module.value.line)): module '\(name)' is not read; security groups it creates are not compared",
                    hint: "run topogen diff on the module's directory too"))
        }
        for (name, _) in configuration.resources(of: "aws_security_group") {
            readGroups(name)
        }
        for (name, _) in configuration.resources(of: "aws_security_group_rule") {
            readRules(type: "aws_security_group_rule", name: name, direction: nil)
        }
        for direction in [GroupRule.Direction.ingress, .egress] {
            let type = "aws_vpc_security_group_\(direction.rawValue)_rule"
            for (name, _) in configuration.resources(of: type) {
                readRules(type: type, name: name, direction: direction)
            }
        }
        for (key, rule) in addedTo.sorted(by: { $0.key < $1.key }) where inline.contains(key) {
            let parts = key.split(separator: " ")
            let (group, direction) = (parts.dropLast().joined(separator: " "), parts.last ?? "")
            diagnostics.append(
                Diagnostic(
                    .warning,
                    "'\(group)' has inline \(direction) rules and '\(rule)' adds to them; the AWS provider says the two conflict (both are compared)",
                    hint: "keep each group's rules in one style"))
        }
        let (directory, matched, warnings) = GroupDirectory.match(
            declared, topology: topology, options: options, idExample: "aws_security_group.NAME")
        diagnostics += warnings
        var unreadable: [Unreadable] = []
        for (index, problem) in unnamed.sorted(by: { $0.key < $1.key }) where matched[index] == nil
        {
            let address = declared[index].id ?? "the group"
            unreadable.append(
                Unreadable(
                    location: problem.location,
                    reason:
                        "the name of '\(address)' is not known: \(problem.message); its rules are not compared (name it with '--group NODE=\(address)')"
                ))
        }
        for item in pending {
            guard let group = item.group else {
                unreadable.append(item.unreadable)
                continue
            }
            // A rule of a group that is no node's is not the installation's.
            guard let node = directory.node(for: group) else { continue }
            guard let direction = item.direction else {
                unreadable.append(item.unreadable)
                continue
            }
            var construct = item.unreadable
            construct.subject = Subject(node, direction == .ingress ? .ingress : .egress)
            unreadable.append(construct)
        }
        let (permissions, invalid) = SecurityGroupPermissions.permissions(
            of: rules, directory: directory)
        return DeployedRules(
            permissions: permissions, compared: .everything, unreadable: unreadable + invalid,
            diagnostics: diagnostics)
    }

    // MARK: - Groups and their inline rules

    /// The instances of one `aws_security_group` resource, and their inline rules.
    mutating func readGroups(_ name: String) {
        let instances: [HCLInstance]
        do {
            switch try evaluator.instances(type: "aws_security_group", name: name) {
            case .success(let list): instances = list
            case .failure(let problem):
                pending.append(
                    Pending(
                        unreadable: Unreadable(
                            location: problem.location,
                            reason:
                                "\(problem.message); the groups of 'aws_security_group.\(name)' are not compared"
                        )))
                return
            }
        } catch {
            pending.append(
                Pending(
                    unreadable: Unreadable(
                        location: error.location,
                        reason:
                            "\(error.message); the groups of 'aws_security_group.\(name)' are not compared"
                    )))
            return
        }
        for instance in instances {
            let address = instance.address.description
            let (groupName, problem) = self.name(of: instance)
            if let problem { unnamed[declared.count] = problem }
            declared.append(
                DeclaredGroup(id: address, name: groupName, location: instance.location))
            declaredIDs.insert(address)
            let group = GroupReference.id(address)
            for direction in [GroupRule.Direction.ingress, .egress] {
                readInlineRules(direction, of: instance, group: group)
            }
        }
    }

    /// The name of a group: `name`, or a `name_prefix` that is a node's group name.
    mutating func name(of instance: HCLInstance) -> (String?, HCLProblem?) {
        let body = instance.block.body
        for attribute in ["name", "name_prefix"] {
            guard let written = body.attribute(attribute) else { continue }
            let location = SourceLocation(file: instance.scope.file, line: written.line)
            do {
                let value = try evaluator.evaluate(written.expression, in: instance.scope)
                switch value {
                case .null: continue
                case .string(let text):
                    guard attribute == "name_prefix" else { return (text, nil) }
                    let trimmed = text.hasSuffix("-") ? String(text.dropLast()) : text
                    let names = SecurityGroupEmitter.groupedNodes(in: topology).map(
                        topology.aws.groupName)
                    return (names.contains(trimmed) ? trimmed : nil, nil)
                case .unknown(let unknown): return (nil, HCLProblem(unknown, at: location))
                case .reference(let reference):
                    return (
                        nil,
                        HCLProblem(
                            message: "'\(reference)' is known only after apply", location: location)
                    )
                default:
                    return (
                        nil,
                        HCLProblem(
                            message: "'\(attribute)' must be a string, not a \(value.typeName)",
                            location: location)
                    )
                }
            } catch {
                return (nil, error)
            }
        }
        return (nil, nil)
    }

    /// The `ingress` or `egress` rules of a group: attributes (`ingress = [...]`), blocks and
    /// `dynamic` blocks, numbered in that order for excerpts (`ingress[0]`).
    mutating func readInlineRules(
        _ direction: GroupRule.Direction, of instance: HCLInstance, group: GroupReference
    ) {
        let body = instance.block.body
        let type = direction.rawValue
        var index = 0
        func excerpt() -> String { "\(instance.address) \(type)[\(index)]" }
        if let attribute = body.attribute(type) {
            inline.insert("\(instance.address) \(type)")
            let location = SourceLocation(file: instance.scope.file, line: attribute.line)
            do throws(HCLProblem) {
                let value = try evaluator.evaluate(attribute.expression, in: instance.scope)
                guard case .list(let items) = value else {
                    if case .unknown(let unknown) = value {
                        throw HCLProblem(unknown, at: location)
                    }
                    throw HCLProblem(
                        message: "'\(type)' must be a list of rules, not a \(value.typeName)",
                        location: location)
                }
                for item in items {
                    guard case .object(let fields) = item else {
                        let problem: HCLProblem
                        if case .unknown(let unknown) = item {
                            problem = HCLProblem(unknown, at: location)
                        } else {
                            problem = HCLProblem(
                                message:
                                    "a rule of '\(type)' must be an object, not a \(item.typeName)",
                                location: location)
                        }
                        fail(problem, group: group, direction: direction)
                        index += 1
                        continue
                    }
                    add(
                        fields, kind: .inline, group: group, direction: direction, origin: location,
                        excerpt: excerpt())
                    index += 1
                }
            } catch {
                fail(error, group: group, direction: direction)
            }
        }
        for expanded in evaluator.blocks(type, in: body, scope: instance.scope) {
            inline.insert("\(instance.address) \(type)")
            switch expanded {
            case .success(let block):
                let location = SourceLocation(file: block.scope.file, line: block.line)
                let fields = evaluate(block.body, scope: block.scope, location: location)
                switch fields {
                case .success(let values):
                    add(
                        values, kind: .inline, group: group, direction: direction,
                        origin: location, excerpt: excerpt())
                case .failure(let problem):
                    fail(problem, group: group, direction: direction)
                }
            case .failure(let problem):
                fail(problem, group: group, direction: direction)
            }
            index += 1
        }
    }

    // MARK: - Rule resources

    /// The instances of one rule resource; `fixed` is the direction of
    /// `aws_vpc_security_group_*_rule`, nil for `aws_security_group_rule` (its `type`).
    mutating func readRules(type: String, name: String, direction fixed: GroupRule.Direction?) {
        let instances: [HCLInstance]
        do {
            switch try evaluator.instances(type: type, name: name) {
            case .success(let list): instances = list
            case .failure(let problem):
                fail(problem, group: nil, direction: fixed)
                return
            }
        } catch {
            fail(error, group: nil, direction: fixed)
            return
        }
        for instance in instances {
            let location = instance.location
            let fields: Fields
            switch evaluate(instance.block.body, scope: instance.scope, location: location) {
            case .success(let values): fields = values
            case .failure(let problem):
                let (group, direction) = owner(of: instance, fixed: fixed)
                fail(problem, group: group, direction: direction)
                continue
            }
            do throws(HCLProblem) {
                guard let group = try groupReference(fields["security_group_id"], at: location)
                else {
                    throw HCLProblem(
                        message: "the rule names no 'security_group_id'", location: location)
                }
                var direction = fixed
                if direction == nil {
                    let written = try Self.text(fields["type"], "type", at: location)
                    direction = written.flatMap(GroupRule.Direction.init(rawValue:))
                    guard direction != nil else {
                        throw HCLProblem(
                            message:
                                "'type' must be 'ingress' or 'egress', not '\(written ?? "null")'",
                            location: location)
                    }
                }
                guard let direction else { continue }
                if case .id(let id) = group {
                    let key = "\(id) \(direction.rawValue)"
                    addedTo[key] = addedTo[key] ?? instance.address.description
                    if !declaredIDs.contains(id) {
                        declaredIDs.insert(id)
                        declared.append(DeclaredGroup(id: id, name: nil, location: location))
                    }
                }
                add(
                    fields, kind: fixed == nil ? .rule : .vpcRule, group: group,
                    direction: direction, origin: location,
                    excerpt: instance.address.description)
            } catch {
                fail(error, group: nil, direction: fixed)
            }
        }
    }

    /// The group and direction of a rule resource whose other attributes cannot be read,
    /// when those two can.
    mutating func owner(of instance: HCLInstance, fixed: GroupRule.Direction?) -> (
        GroupReference?, GroupRule.Direction?
    ) {
        let body = instance.block.body
        let location = instance.location
        func value(_ name: String) -> HCLValue? {
            guard let attribute = body.attribute(name) else { return nil }
            return try? evaluator.evaluate(attribute.expression, in: instance.scope)
        }
        let group = (try? groupReference(value("security_group_id"), at: location)) ?? nil
        var direction = fixed
        if direction == nil, case .string(let text) = value("type") {
            direction = GroupRule.Direction(rawValue: text)
        }
        return (group, direction)
    }

    // MARK: - Rules

    /// The kinds of rule, by the attributes they are written with.
    enum Kind {
        /// An `ingress` or `egress` block of `aws_security_group`.
        case inline
        /// `aws_security_group_rule`.
        case rule
        /// `aws_vpc_security_group_ingress_rule` or `_egress_rule`.
        case vpcRule
    }

    /// Every attribute of any kind of rule that says what it allows.
    static let ruleAttributes = [
        "type", "security_group_id", "protocol", "ip_protocol", "from_port", "to_port",
        "cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups", "self",
        "source_security_group_id", "cidr_ipv4", "cidr_ipv6", "prefix_list_id",
        "referenced_security_group_id",
    ]

    /// The attributes of a rule's body that matter, evaluated; the description when it can
    /// be.
    mutating func evaluate(_ body: HCLBody, scope: HCLScope, location: SourceLocation) -> Result<
        Fields, HCLProblem
    > {
        var fields: Fields = [:]
        for name in Self.ruleAttributes {
            guard let attribute = body.attribute(name) else { continue }
            do {
                fields[name] = try evaluator.evaluate(attribute.expression, in: scope)
            } catch {
                return .failure(error)
            }
        }
        if let description = body.attribute("description"),
            let value = try? evaluator.evaluate(description.expression, in: scope)
        {
            fields["description"] = value
        }
        return .success(fields)
    }

    /// The group rules of one rule: one per peer.
    mutating func add(
        _ fields: Fields, kind: Kind, group: GroupReference, direction: GroupRule.Direction,
        origin: SourceLocation, excerpt: String
    ) {
        do throws(HCLProblem) {
            let ipProtocol = try Self.text(
                fields[kind == .vpcRule ? "ip_protocol" : "protocol"], "protocol", at: origin)
            guard let ipProtocol else {
                throw HCLProblem(message: "the rule names no protocol", location: origin)
            }
            let from = try Self.port(fields["from_port"], "from_port", at: origin)
            let to = try Self.port(fields["to_port"], "to_port", at: origin)
            var peers: [GroupRule.Peer] = []
            switch kind {
            case .inline, .rule:
                peers += try Self.texts(fields["cidr_blocks"], "cidr_blocks", at: origin).map {
                    .cidrIPv4($0)
                }
                peers += try Self.texts(fields["ipv6_cidr_blocks"], "ipv6_cidr_blocks", at: origin)
                    .map { .cidrIPv6($0) }
                peers += try Self.texts(fields["prefix_list_ids"], "prefix_list_ids", at: origin)
                    .map { .prefixList($0) }
                if kind == .inline {
                    for value in try Self.list(
                        fields["security_groups"], "security_groups", at: origin)
                    {
                        if let reference = try groupReference(value, at: origin) {
                            peers.append(.group(reference))
                        }
                    }
                } else if let reference = try groupReference(
                    fields["source_security_group_id"], at: origin)
                {
                    peers.append(.group(reference))
                }
                if try Self.flag(fields["self"], "self", at: origin) { peers.append(.group(group)) }
            case .vpcRule:
                if let cidr = try Self.text(fields["cidr_ipv4"], "cidr_ipv4", at: origin) {
                    peers.append(.cidrIPv4(cidr))
                }
                if let cidr = try Self.text(fields["cidr_ipv6"], "cidr_ipv6", at: origin) {
                    peers.append(.cidrIPv6(cidr))
                }
                if let list = try Self.text(fields["prefix_list_id"], "prefix_list_id", at: origin)
                {
                    peers.append(.prefixList(list))
                }
                if let reference = try groupReference(
                    fields["referenced_security_group_id"], at: origin)
                {
                    peers.append(.group(reference))
                }
            }
            var description: String?
            if case .string(let text) = fields["description"] { description = text }
            for peer in peers {
                rules.append(
                    GroupRule(
                        group: group, direction: direction, ipProtocol: ipProtocol, fromPort: from,
                        toPort: to, peer: peer, description: description, origin: origin,
                        excerpt: excerpt))
            }
        } catch {
            fail(error, group: group, direction: direction)
        }
    }

    /// Records a rule that cannot be read, for its group and direction when known.
    mutating func fail(
        _ problem: HCLProblem, group: GroupReference?, direction: GroupRule.Direction?
    ) {
        pending.append(
            Pending(
                group: group, direction: direction,
                unreadable: Unreadable(
                    location: problem.location,
                    reason: "\(problem.message); the rule is not compared")))
    }

    // MARK: - Values

    /// A known value, or the problem of an unknown one.
    static func known(_ value: HCLValue?, at location: SourceLocation) throws(HCLProblem)
        -> HCLValue
    {
        guard let value else { return .null }
        if let unknown = value.firstUnknown { throw HCLProblem(unknown, at: location) }
        if case .reference(let reference) = value {
            throw HCLProblem(
                message: "'\(reference)' is known only after apply", location: location)
        }
        return value
    }

    /// A string attribute (a number is written as one); nil when null or absent.
    static func text(_ value: HCLValue?, _ name: String, at location: SourceLocation)
        throws(HCLProblem) -> String?
    {
        switch try known(value, at: location) {
        case .null: return nil
        case .string(let text): return text
        case .number(let number): return HCLValue.format(number)
        case let other:
            throw HCLProblem(
                message: "'\(name)' must be a string, not a \(other.typeName)", location: location)
        }
    }

    /// A port (or ICMP type or code): a whole number, or a string of one.
    static func port(_ value: HCLValue?, _ name: String, at location: SourceLocation)
        throws(HCLProblem) -> Int?
    {
        switch try known(value, at: location) {
        case .null: return nil
        case let other:
            let number = try HCLEvaluator.number(other, at: location)
            guard number.rounded() == number, abs(number) < 1_000_000 else {
                throw HCLProblem(
                    message: "'\(name)' must be a whole number, not \(HCLValue.format(number))",
                    location: location)
            }
            return Int(number)
        }
    }

    /// A list attribute; empty when null or absent.
    static func list(_ value: HCLValue?, _ name: String, at location: SourceLocation)
        throws(HCLProblem) -> [HCLValue]
    {
        guard let value else { return [] }
        switch value {
        case .null: return []
        case .list(let items): return items
        case .unknown(let unknown): throw HCLProblem(unknown, at: location)
        default:
            throw HCLProblem(
                message: "'\(name)' must be a list, not a \(value.typeName)", location: location)
        }
    }

    /// A list of strings.
    static func texts(_ value: HCLValue?, _ name: String, at location: SourceLocation)
        throws(HCLProblem) -> [String]
    {
        var result: [String] = []
        for item in try list(value, name, at: location) {
            guard let text = try text(item, name, at: location) else {
                throw HCLProblem(message: "'\(name)' holds null", location: location)
            }
            result.append(text)
        }
        return result
    }

    /// A bool attribute; false when null or absent.
    static func flag(_ value: HCLValue?, _ name: String, at location: SourceLocation)
        throws(HCLProblem) -> Bool
    {
        switch try known(value, at: location) {
        case .null: return false
        case let other: return try HCLEvaluator.bool(other, at: location)
        }
    }

    /// A group a rule names: a resource's id (its address), a literal id (`sg-...`) or a
    /// name, or a `data "aws_security_group"` by the `id` or `name` it looks up; nil for
    /// null.
    mutating func groupReference(_ value: HCLValue?, at location: SourceLocation) throws(HCLProblem)
        -> GroupReference?
    {
        guard let value else { return nil }
        if case .reference(let reference) = value, reference.attribute == "id",
            reference.address.type == "data.aws_security_group"
        {
            let data = "data.aws_security_group.\(reference.address.name)"
            guard
                let declared = evaluator.configuration.dataSources["aws_security_group"]?[
                    reference.address.name]
            else {
                throw HCLProblem(message: "'\(data)' is not declared", location: location)
            }
            for attribute in ["id", "name"] {
                guard let written = declared.value.body.attribute(attribute) else { continue }
                let found = try evaluator.evaluate(
                    written.expression, in: HCLScope(file: declared.file))
                switch found {
                case .string(let text): return attribute == "id" ? .id(text) : .name(text)
                case .unknown(let unknown): throw HCLProblem(unknown, at: location)
                default: continue
                }
            }
            throw HCLProblem(
                message:
                    "'\(data)' is read from the provider at plan time (it names no 'id' or 'name')",
                location: location)
        }
        switch value {
        case .null: return nil
        case .reference(let reference) where reference.attribute == "id":
            return .id(reference.address.description)
        case .string(let text):
            return text.hasPrefix("sg-") ? .id(text) : .name(text)
        case .unknown(let unknown):
            throw HCLProblem(unknown, at: location)
        case .reference(let reference):
            throw HCLProblem(
                message: "'\(reference)' is not a security group's id", location: location)
        default:
            throw HCLProblem(
                message: "a security group must be a string, not a \(value.typeName)",
                location: location)
        }
    }
}
