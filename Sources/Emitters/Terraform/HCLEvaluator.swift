import TopologyModel

/// Why an expression has no value topogen can use: the configuration is wrong (a type
/// mismatch, a missing attribute), or a value is unknown to topogen, with where.
///
/// For example: `main.tf:12: 'var.ports' has no default (variables.tf:3)`.
struct HCLProblem: Error, Hashable, Sendable {
    /// What is wrong, in the project's message style.
    var message: String
    /// Where.
    var location: SourceLocation

    /// The problem of an unknown value found at `location`: its reason, and where its cause
    /// was written when that is elsewhere.
    init(_ unknown: HCLUnknown, at location: SourceLocation) {
        var message = unknown.reason
        if let cause = unknown.location, cause != location { message += " (\(cause))" }
        self.init(message: message, location: location)
    }

    /// A problem.
    init(message: String, location: SourceLocation) {
        self.message = message
        self.location = location
    }
}

/// The names an expression sees besides the module's: `each`, `count`, the variables of
/// `for` expressions and the iterators of `dynamic` blocks, and the file it is written in.
///
/// For example: inside `aws_security_group.this["server"]`, `each.key` is `"server"`.
struct HCLScope: Hashable, Sendable {
    /// The file the expression is written in.
    var file: String
    /// Names bound in the scope.
    var names: [String: HCLValue] = [:]

    /// A scope with one more name.
    func binding(_ name: String, to value: HCLValue) -> HCLScope {
        var scope = self
        scope.names[name] = value
        return scope
    }
}

/// One instance of a resource, with the scope its attributes are evaluated in.
///
/// For example: `aws_security_group.this["server"]`, with `each.key = "server"`.
struct HCLInstance: Hashable, Sendable {
    /// Its address.
    var address: HCLResourceAddress
    /// The resource block.
    var block: HCLBlock
    /// The scope of its attributes.
    var scope: HCLScope

    /// Where the resource is written.
    var location: SourceLocation { SourceLocation(file: scope.file, line: block.line) }
}

/// A nested block after `dynamic` blocks are expanded: its body, the scope of its attributes,
/// and its name in messages.
///
/// For example: the second element of `dynamic "ingress" { for_each = var.ports ... }` is a
/// body named `ingress[1]` whose scope binds `ingress.value`.
struct HCLExpandedBlock: Hashable, Sendable {
    /// What the block holds.
    var body: HCLBody
    /// The scope of its attributes.
    var scope: HCLScope
    /// The line of the block (the `dynamic` block's for generated ones).
    var line: Int
}

/// Evaluates the expressions of an ``HCLConfiguration`` as Terraform would at plan time, as
/// far as topogen can know them: literals, variables with defaults, locals, `each` and
/// `count`, references between resources, operators, conditionals, `for` expressions, splats
/// and the functions hand-written security groups and topogen's module use.
///
/// What Terraform would only know later, or from outside these files, is an
/// ``HCLValue/unknown(_:)`` value with the reason: a variable without a default, a data
/// source, a module's output, a function topogen does not evaluate. A resource attribute the
/// configuration does not set (a group's `id`) is an ``HCLValue/reference(_:)``, and so is
/// an attribute of a `data "aws_security_group"` (its address is `data.aws_security_group.N`),
/// which the Terraform reader resolves through the data source's `id` or `name`. What
/// Terraform itself would refuse (a missing attribute, an index out of range, a type
/// mismatch) is an ``HCLProblem``, which `try` and `can` catch as Terraform's do.
///
/// For example: with `variable "port" { default = 443 }`, `var.port + 1` is `444`;
/// `aws_security_group.this["lb"].id` is a reference to that group; `var.ports` without a
/// default is unknown: `'var.ports' has no default`.
struct HCLEvaluator {
    /// The module's declarations.
    let configuration: HCLConfiguration
    /// Evaluated locals, variables, collections and attributes, each evaluated once.
    private var locals: [String: Result<HCLValue, HCLProblem>] = [:]
    private var variables: [String: HCLValue] = [:]
    private var collections: [String: Result<Collection, HCLProblem>] = [:]
    /// The value of each resource's collection, built once: referencing a group of a
    /// `for_each` is then the same for each of many rules.
    private var resourceValues: [String: HCLValue] = [:]
    private var attributes: [String: Result<HCLValue, HCLProblem>] = [:]
    /// Locals, attributes and collections being evaluated, to report a cycle instead of
    /// recursing.
    private var inProgress: Set<String> = []

    /// The longest chain of references evaluated one inside the other (`local.a` referring to
    /// `local.b` referring to ...), so that a long chain is refused rather than overflowing
    /// the stack: the 101st is ``HCLProblem`` `references are nested deeper than 100 levels`.
    static let maximumReferenceDepth = 100

    /// Starts evaluating `key`, refusing a cycle or a chain of references that is too long.
    private mutating func begin(_ key: String, at location: SourceLocation) throws(HCLProblem) {
        guard inProgress.count < Self.maximumReferenceDepth else {
            throw HCLProblem(
                message:
                    "references are nested deeper than \(Self.maximumReferenceDepth) levels at '\(key)'",
                location: location)
        }
        guard inProgress.insert(key).inserted else {
            throw HCLProblem(message: "'\(key)' refers to itself", location: location)
        }
    }

    /// The instances a resource's `for_each` or `count` makes.
    private enum Collection: Hashable, Sendable {
        /// No `for_each` or `count`: one instance.
        case single
        /// `for_each`: the value of each key.
        case keyed([String: HCLValue])
        /// `count`.
        case counted(Int)
        /// `for_each` or `count` cannot be known.
        case unknown(HCLUnknown)
    }

    /// Creates an evaluator of a configuration.
    init(_ configuration: HCLConfiguration) {
        self.configuration = configuration
    }

    // MARK: - Resources

    /// The instances of a resource: one, or one per `for_each` key or `count` index.
    ///
    /// - Returns: The instances, or the reason they are unknown (a `for_each` over a
    ///   variable without default).
    /// - Throws: ``HCLProblem`` when `for_each` or `count` is invalid.
    mutating func instances(type: String, name: String) throws(HCLProblem) -> Result<
        [HCLInstance], HCLProblem
    > {
        guard let declared = configuration.resources[type]?[name] else { return .success([]) }
        let scope = HCLScope(file: declared.file)
        switch try collection(type: type, name: name) {
        case .single:
            return .success([
                HCLInstance(
                    address: HCLResourceAddress(type: type, name: name), block: declared.value,
                    scope: scope)
            ])
        case .keyed(let map):
            return .success(
                map.keys.sorted().map { key in
                    HCLInstance(
                        address: HCLResourceAddress(type: type, name: name, key: .string(key)),
                        block: declared.value,
                        scope: scope.binding(
                            "each", to: .object(["key": .string(key), "value": map[key] ?? .null]))
                    )
                })
        case .counted(let count):
            return .success(
                (0..<count).map { index in
                    HCLInstance(
                        address: HCLResourceAddress(type: type, name: name, key: .index(index)),
                        block: declared.value,
                        scope: scope.binding(
                            "count", to: .object(["index": .number(Double(index))])))
                })
        case .unknown(let unknown):
            let attribute =
                declared.value.body.attribute("for_each") ?? declared.value.body.attribute("count")
            return .failure(
                HCLProblem(unknown, at: declared.location(attribute?.line ?? declared.value.line)))
        }
    }

    /// The collection of a resource, evaluated once.
    private mutating func collection(type: String, name: String) throws(HCLProblem) -> Collection {
        let key = "\(type).\(name)"
        if let cached = collections[key] { return try cached.get() }
        guard let declared = configuration.resources[type]?[name] else { return .single }
        let progress = "collection of \(key)"
        try begin(progress, at: declared.location(declared.value.line))
        defer { inProgress.remove(progress) }
        let result: Result<Collection, HCLProblem>
        do {
            result = .success(try computeCollection(declared))
        } catch {
            result = .failure(error)
        }
        collections[key] = result
        return try result.get()
    }

    /// Evaluates `for_each` (a map, or a set of strings) or `count`.
    private mutating func computeCollection(_ declared: HCLDeclared<HCLBlock>) throws(HCLProblem)
        -> Collection
    {
        let body = declared.value.body
        let scope = HCLScope(file: declared.file)
        if let forEach = body.attribute("for_each") {
            let value = try evaluate(forEach.expression, in: scope)
            switch value {
            case .unknown(let unknown):
                return .unknown(unknown)
            case .object(let map):
                return .keyed(map)
            case .list(let items):
                var map: [String: HCLValue] = [:]
                for item in items {
                    switch item {
                    case .string(let text): map[text] = item
                    case .unknown(let unknown): return .unknown(unknown)
                    case .reference(let reference):
                        return .unknown(
                            HCLUnknown(
                                reason: "'\(reference)' is known only after apply",
                                location: declared.location(forEach.line)))
                    default:
                        throw HCLProblem(
                            message:
                                "'for_each' takes a map or a set of strings, not a list of \(item.typeName)s",
                            location: declared.location(forEach.line))
                    }
                }
                return .keyed(map)
            default:
                throw HCLProblem(
                    message: "'for_each' takes a map or a set of strings, not a \(value.typeName)",
                    location: declared.location(forEach.line))
            }
        }
        if let count = body.attribute("count") {
            let value = try evaluate(count.expression, in: scope)
            if case .unknown(let unknown) = value { return .unknown(unknown) }
            let number = try Self.number(value, at: declared.location(count.line))
            guard number >= 0, number.rounded() == number, number < 1_000_000 else {
                throw HCLProblem(
                    message: "'count' must be a whole number, not \(HCLValue.format(number))",
                    location: declared.location(count.line))
            }
            return .counted(Int(number))
        }
        return .single
    }

    /// The value of a resource's collection as an expression reads it: the instance itself,
    /// a map of instances by `for_each` key, or a list by `count` index.
    private mutating func resourceValue(type: String, name: String) throws(HCLProblem) -> HCLValue {
        let key = "\(type).\(name)"
        if let cached = resourceValues[key] { return cached }
        let value: HCLValue
        switch try collection(type: type, name: name) {
        case .single:
            value = .resource(HCLResourceAddress(type: type, name: name))
        case .keyed(let map):
            var objects: [String: HCLValue] = [:]
            for key in map.keys {
                objects[key] = .resource(
                    HCLResourceAddress(type: type, name: name, key: .string(key)))
            }
            value = .object(objects)
        case .counted(let count):
            value = .list(
                (0..<count).map {
                    .resource(HCLResourceAddress(type: type, name: name, key: .index($0)))
                })
        case .unknown(let unknown):
            value = .unknown(unknown)
        }
        resourceValues[key] = value
        return value
    }

    /// An attribute of a resource instance: what the configuration sets, or a reference to
    /// what exists only after apply (`id`, `arn`).
    mutating func attribute(_ name: String, of address: HCLResourceAddress) throws(HCLProblem)
        -> HCLValue
    {
        guard let declared = configuration.resources[address.type]?[address.name],
            let attribute = declared.value.body.attribute(name)
        else {
            return .reference(HCLReference(address: address, attribute: name))
        }
        let key = "\(address).\(name)"
        if let cached = attributes[key] { return try cached.get() }
        try begin(key, at: declared.location(attribute.line))
        defer { inProgress.remove(key) }
        let result: Result<HCLValue, HCLProblem>
        do {
            result = .success(try evaluate(attribute.expression, in: try scope(of: address)))
        } catch {
            result = .failure(error)
        }
        attributes[key] = result
        return try result.get()
    }

    /// The scope of a resource instance's attributes.
    private mutating func scope(of address: HCLResourceAddress) throws(HCLProblem) -> HCLScope {
        let file = configuration.resources[address.type]?[address.name]?.file ?? ""
        var scope = HCLScope(file: file)
        switch (address.key, try collection(type: address.type, name: address.name)) {
        case (.string(let key), .keyed(let map)):
            scope.names["each"] = .object(["key": .string(key), "value": map[key] ?? .null])
        case (.index(let index), _):
            scope.names["count"] = .object(["index": .number(Double(index))])
        default:
            break
        }
        return scope
    }

    /// The nested blocks of one type in a body, with `dynamic` blocks of that type expanded:
    /// each element of their `for_each` is one block whose scope binds the iterator.
    ///
    /// - Returns: One result per block; a failure for a `dynamic` block whose `for_each` is
    ///   unknown or invalid.
    mutating func blocks(_ type: String, in body: HCLBody, scope: HCLScope) -> [Result<
        HCLExpandedBlock, HCLProblem
    >] {
        var result: [(line: Int, order: Int, value: Result<HCLExpandedBlock, HCLProblem>)] = []
        var order = 0
        for block in body.blocks(type) {
            result.append(
                (
                    block.line, order,
                    .success(HCLExpandedBlock(body: block.body, scope: scope, line: block.line))
                ))
            order += 1
        }
        for block in body.blocks("dynamic") where block.labels == [type] {
            let location = SourceLocation(file: scope.file, line: block.line)
            guard let forEach = block.body.attribute("for_each"),
                let content = block.body.blocks("content").first
            else {
                result.append(
                    (
                        block.line, order,
                        .failure(
                            HCLProblem(
                                message: "a 'dynamic' block needs 'for_each' and a 'content' block",
                                location: location))
                    ))
                order += 1
                continue
            }
            var iterator = type
            if let name = block.body.attribute("iterator"),
                case .variable(let text) = name.expression.kind
            {
                iterator = text
            }
            do throws(HCLProblem) {
                let value = try evaluate(forEach.expression, in: scope)
                let pairs: [(HCLValue, HCLValue)]
                switch value {
                case .unknown(let unknown):
                    throw HCLProblem(unknown, at: location)
                case .list(let items):
                    pairs = items.enumerated().map { (.number(Double($0.offset)), $0.element) }
                case .object(let map):
                    pairs = map.keys.sorted().map { (.string($0), map[$0] ?? .null) }
                default:
                    throw HCLProblem(
                        message:
                            "'for_each' of a 'dynamic' block takes a collection, not a \(value.typeName)",
                        location: location)
                }
                for (key, element) in pairs {
                    let inner = scope.binding(
                        iterator, to: .object(["key": key, "value": element]))
                    result.append(
                        (
                            block.line, order,
                            .success(
                                HCLExpandedBlock(body: content.body, scope: inner, line: block.line)
                            )
                        ))
                    order += 1
                }
            } catch {
                result.append((block.line, order, .failure(error)))
                order += 1
            }
        }
        return result.sorted { ($0.line, $0.order) < ($1.line, $1.order) }.map(\.value)
    }

    // MARK: - Module values

    /// The value of `var.NAME`: its default, or unknown without one.
    mutating func variable(_ name: String, line: Int, file: String) throws(HCLProblem) -> HCLValue {
        if let cached = variables[name] { return cached }
        guard let declared = configuration.variables[name] else {
            throw HCLProblem(
                message: "'var.\(name)' is not declared",
                location: SourceLocation(file: file, line: line))
        }
        var value: HCLValue
        if let initial = declared.value.body.attribute("default") {
            value = try evaluate(initial.expression, in: HCLScope(file: declared.file))
            if let type = declared.value.body.attribute("type"),
                case .call("set", _, _) = type.expression.kind, case .list(let items) = value
            {
                value = .list(Self.set(items))
            }
        } else {
            value = .unknown(
                HCLUnknown(
                    reason: "'var.\(name)' has no default",
                    location: declared.location(declared.value.line)))
        }
        variables[name] = value
        return value
    }

    /// The value of `local.NAME`.
    mutating func local(_ name: String, line: Int, file: String) throws(HCLProblem) -> HCLValue {
        if let cached = locals[name] { return try cached.get() }
        guard let declared = configuration.locals[name] else {
            throw HCLProblem(
                message: "'local.\(name)' is not declared",
                location: SourceLocation(file: file, line: line))
        }
        let key = "local.\(name)"
        try begin(key, at: declared.location(declared.value.line))
        defer { inProgress.remove(key) }
        let result: Result<HCLValue, HCLProblem>
        do {
            result = .success(
                try evaluate(declared.value.expression, in: HCLScope(file: declared.file)))
        } catch {
            result = .failure(error)
        }
        locals[name] = result
        return try result.get()
    }

    // MARK: - Expressions

    /// The value of an expression in a scope.
    ///
    /// - Throws: ``HCLProblem`` where Terraform would report an error.
    mutating func evaluate(_ expression: HCLExpression, in scope: HCLScope) throws(HCLProblem)
        -> HCLValue
    {
        let location = SourceLocation(file: scope.file, line: expression.line)
        switch expression.kind {
        case .literal(let value):
            return value
        case .template(let parts):
            if parts.count == 1, case .interpolation(let inner) = parts[0] {
                return try evaluate(inner, in: scope)
            }
            var text = ""
            for part in parts {
                switch part {
                case .literal(let literal): text += literal
                case .interpolation(let inner):
                    let value = try evaluate(inner, in: scope)
                    switch try Self.string(value, at: location) {
                    case .string(let piece): text += piece
                    case let other: return other
                    }
                }
                try Self.checkSize(.string(text), at: location)
            }
            return .string(text)
        case .unsupported(let reason):
            return .unknown(HCLUnknown(reason: reason, location: location))
        case .tuple(let items):
            var values: [HCLValue] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item, in: scope)) }
            try Self.checkSize(.list(values), at: location)
            return .list(values)
        case .object(let items):
            var fields: [String: HCLValue] = [:]
            for item in items {
                let key = try evaluate(item.key, in: scope)
                switch try Self.string(key, at: location) {
                case .string(let name): fields[name] = try evaluate(item.value, in: scope)
                case let other: return other
                }
            }
            try Self.checkSize(.object(fields), at: location)
            return .object(fields)
        case .variable(let name):
            if let value = scope.names[name] { return value }
            if name == "self" || name == "count" || name == "each" {
                throw HCLProblem(message: "'\(name)' is not available here", location: location)
            }
            if configuration.resources[name] != nil
                || ["var", "local", "data", "module", "path", "terraform"].contains(name)
            {
                throw HCLProblem(
                    message: "'\(name)' must be followed by an attribute", location: location)
            }
            return .unknown(
                HCLUnknown(reason: "'\(name)' is not declared in these files", location: location))
        case .attribute(let base, let name):
            if let value = try root(base, name, scope: scope, location: location) { return value }
            return try Self.attribute(
                of: try evaluate(base, in: scope), name, at: location, evaluator: &self)
        case .index(let base, let key):
            let collection = try evaluate(base, in: scope)
            let subscriptValue = try evaluate(key, in: scope)
            return try index(collection, subscriptValue, at: location)
        case .splat(let base, let rest):
            let value = try evaluate(base, in: scope)
            let items: [HCLValue]
            switch value {
            case .unknown: return value
            case .null: return .list([])
            case .list(let list): items = list
            default: items = [value]
            }
            var result: [HCLValue] = []
            for item in items {
                result.append(try evaluate(rest, in: scope.binding(Self.splatName, to: item)))
            }
            return .list(result)
        case .splatItem:
            return scope.names[Self.splatName] ?? .null
        case .call(let name, let arguments, let expandsLast):
            let value = try call(
                name, arguments, expandsLast: expandsLast, scope: scope, location: location)
            try Self.checkSize(value, at: location)
            return value
        case .not(let operand):
            let value = try evaluate(operand, in: scope)
            if case .unknown = value { return value }
            return .bool(!(try Self.bool(value, at: location)))
        case .negate(let operand):
            let value = try evaluate(operand, in: scope)
            if case .unknown = value { return value }
            return .number(-(try Self.number(value, at: location)))
        case .binary(let op, let lhs, let rhs):
            return try binary(
                op, try evaluate(lhs, in: scope), try evaluate(rhs, in: scope), at: location)
        case .conditional(let condition, let whenTrue, let whenFalse):
            let value = try evaluate(condition, in: scope)
            if case .unknown = value { return value }
            return try evaluate(
                try Self.bool(value, at: location) ? whenTrue : whenFalse, in: scope)
        case .forTuple(let clause, let value):
            var result: [HCLValue] = []
            let outcome = try iterate(clause, scope: scope, location: location) {
                evaluator, inner throws(HCLProblem) in
                result.append(try evaluator.evaluate(value, in: inner))
                return nil
            }
            if let outcome { return outcome }
            try Self.checkSize(.list(result), at: location)
            return .list(result)
        case .forObject(let clause, let key, let value, let grouping):
            var result: [String: HCLValue] = [:]
            var groups: [String: [HCLValue]] = [:]
            let outcome = try iterate(clause, scope: scope, location: location) {
                evaluator, inner throws(HCLProblem) in
                let name = try evaluator.evaluate(key, in: inner)
                guard case .string(let text) = try Self.string(name, at: location) else {
                    return name
                }
                let element = try evaluator.evaluate(value, in: inner)
                if grouping {
                    groups[text, default: []].append(element)
                } else {
                    guard result[text] == nil else {
                        throw HCLProblem(
                            message:
                                "the key '\(text)' appears twice in a 'for' expression; add '...' to group the values",
                            location: location)
                    }
                    result[text] = element
                }
                return nil
            }
            if let outcome { return outcome }
            let object = HCLValue.object(grouping ? groups.mapValues { .list($0) } : result)
            try Self.checkSize(object, at: location)
            return object
        }
    }

    /// The scope name of the element a splat is applied to; no HCL name can be `*`.
    private static let splatName = "*"

    /// Runs `body` for each element of a `for` expression's collection that passes its
    /// condition; a non-nil result ends the iteration with that value (an unknown).
    private mutating func iterate(
        _ clause: HCLExpression.ForClause, scope: HCLScope, location: SourceLocation,
        _ body: (inout HCLEvaluator, HCLScope) throws(HCLProblem) -> HCLValue?
    ) throws(HCLProblem) -> HCLValue? {
        let collection = try evaluate(clause.collection, in: scope)
        let pairs: [(HCLValue, HCLValue)]
        switch collection {
        case .unknown: return collection
        case .list(let items):
            pairs = items.enumerated().map { (.number(Double($0.offset)), $0.element) }
        case .object(let map): pairs = map.keys.sorted().map { (.string($0), map[$0] ?? .null) }
        default:
            throw HCLProblem(
                message:
                    "a 'for' expression iterates over a collection, not a \(collection.typeName)",
                location: location)
        }
        for (key, value) in pairs {
            var inner = scope.binding(clause.valueName, to: value)
            if let keyName = clause.keyName { inner = inner.binding(keyName, to: key) }
            if let condition = clause.condition {
                let test = try evaluate(condition, in: inner)
                if case .unknown = test { return test }
                guard try Self.bool(test, at: location) else { continue }
            }
            if let outcome = try body(&self, inner) { return outcome }
        }
        return nil
    }

    /// The module-level roots: `var.x`, `local.x`, `data.T.N`, `module.M`, `TYPE.NAME`,
    /// `path.module`; nil when `base` is none of them.
    private mutating func root(
        _ base: HCLExpression, _ name: String, scope: HCLScope, location: SourceLocation
    ) throws(HCLProblem) -> HCLValue? {
        switch base.kind {
        case .variable(let root) where scope.names[root] == nil:
            switch root {
            case "var": return try variable(name, line: location.line ?? 0, file: scope.file)
            case "local": return try local(name, line: location.line ?? 0, file: scope.file)
            case "module":
                return .unknown(
                    HCLUnknown(
                        reason: "'module.\(name)' is a module topogen does not read",
                        location: location))
            case "data":
                return .unknown(
                    HCLUnknown(
                        reason: "'data.\(name)' is read from the provider at plan time",
                        location: location))
            case "path" where ["module", "root", "cwd"].contains(name): return .string(".")
            case "terraform" where name == "workspace": return .string("default")
            default:
                if configuration.resources[root]?[name] != nil {
                    return try resourceValue(type: root, name: name)
                }
                if configuration.resources[root] != nil {
                    throw HCLProblem(
                        message: "'\(root).\(name)' is not declared", location: location)
                }
                return nil
            }
        case .attribute(let inner, let type):
            if case .variable("data") = inner.kind, scope.names["data"] == nil {
                if type == "aws_security_group", configuration.dataSources[type]?[name] != nil {
                    return .resource(HCLResourceAddress(type: "data.\(type)", name: name))
                }
                return .unknown(
                    HCLUnknown(
                        reason: "'data.\(type).\(name)' is read from the provider at plan time",
                        location: location))
            }
            if case .variable("module") = inner.kind, scope.names["module"] == nil {
                return .unknown(
                    HCLUnknown(
                        reason:
                            "'module.\(type).\(name)' is an output of a module topogen does not read",
                        location: location))
            }
            return nil
        default:
            return nil
        }
    }

    // MARK: - Operations

    /// `value.name`.
    private static func attribute(
        of value: HCLValue, _ name: String, at location: SourceLocation,
        evaluator: inout HCLEvaluator
    ) throws(HCLProblem) -> HCLValue {
        switch value {
        case .object(let fields):
            guard let field = fields[name] else {
                throw HCLProblem(
                    message: "the object has no attribute '\(name)'", location: location)
            }
            return field
        case .resource(let address):
            return try evaluator.attribute(name, of: address)
        case .unknown:
            return value
        case .reference(let reference):
            return .unknown(
                HCLUnknown(
                    reason: "'\(reference).\(name)' is known only after apply", location: location))
        case .null:
            throw HCLProblem(message: "cannot read '\(name)' of null", location: location)
        default:
            throw HCLProblem(
                message: "a \(value.typeName) has no attribute '\(name)'", location: location)
        }
    }

    /// `collection[key]`.
    private mutating func index(
        _ collection: HCLValue, _ key: HCLValue, at location: SourceLocation
    )
        throws(HCLProblem) -> HCLValue
    {
        if case .unknown = collection { return collection }
        if case .unknown = key { return key }
        if case .null = key { throw HCLProblem(message: "the index is null", location: location) }
        switch collection {
        case .list(let items):
            let number = try Self.number(key, at: location)
            guard let index = Int(exactly: number), index >= 0, index < items.count else {
                throw HCLProblem(
                    message:
                        "the index \(HCLValue.format(number)) is out of range (\(items.count) elements)",
                    location: location)
            }
            return items[index]
        case .object(let fields):
            guard case .string(let name) = try Self.string(key, at: location) else {
                return .unknown(
                    HCLUnknown(
                        reason: "the key '\(key)' is known only after apply", location: location))
            }
            guard let field = fields[name] else {
                throw HCLProblem(message: "the key '\(name)' does not exist", location: location)
            }
            return field
        case .reference(let reference):
            return .unknown(
                HCLUnknown(reason: "'\(reference)' is known only after apply", location: location))
        case .null:
            throw HCLProblem(message: "cannot index null", location: location)
        default:
            throw HCLProblem(
                message: "a \(collection.typeName) cannot be indexed", location: location)
        }
    }

    /// `lhs OP rhs`; an unknown operand makes the result unknown, except where the other
    /// decides (`false && x`, `true || x`).
    private func binary(
        _ op: HCLExpression.BinaryOperator, _ lhs: HCLValue, _ rhs: HCLValue,
        at location: SourceLocation
    ) throws(HCLProblem) -> HCLValue {
        switch op {
        case .equal, .notEqual:
            if case .unknown = lhs { return lhs }
            if case .unknown = rhs { return rhs }
            var equal: Bool
            switch (lhs, rhs) {
            case (.reference, .null), (.null, .reference), (.resource, .null), (.null, .resource):
                equal = false
            case (.reference(let a), .reference(let b)) where a == b:
                equal = true
            case (.reference(let a), _), (_, .reference(let a)):
                return .unknown(
                    HCLUnknown(reason: "'\(a)' is known only after apply", location: location))
            default:
                equal = lhs == rhs
            }
            return .bool(op == .equal ? equal : !equal)
        case .and, .or:
            if case .bool(let a) = lhs {
                if op == .and && !a { return .bool(false) }
                if op == .or && a { return .bool(true) }
            }
            if case .unknown = lhs { return lhs }
            if case .unknown = rhs { return rhs }
            let a = try Self.bool(lhs, at: location)
            let b = try Self.bool(rhs, at: location)
            return .bool(op == .and ? a && b : a || b)
        default:
            if case .unknown = lhs { return lhs }
            if case .unknown = rhs { return rhs }
            let a = try Self.number(lhs, at: location)
            let b = try Self.number(rhs, at: location)
            switch op {
            case .less: return .bool(a < b)
            case .lessOrEqual: return .bool(a <= b)
            case .greater: return .bool(a > b)
            case .greaterOrEqual: return .bool(a >= b)
            case .add: return .number(a + b)
            case .subtract: return .number(a - b)
            case .multiply: return .number(a * b)
            case .divide:
                guard b != 0 else {
                    throw HCLProblem(message: "division by zero", location: location)
                }
                return .number(a / b)
            default:
                guard b != 0 else {
                    throw HCLProblem(message: "division by zero", location: location)
                }
                return .number(a.truncatingRemainder(dividingBy: b))
            }
        }
    }

    // MARK: - Conversions

    /// A value as a number, converting a numeric string as Terraform does.
    /// The longest string a template or function may make: 1 MiB.
    static let maximumStringSize = 1 << 20

    /// The most values (elements of lists and objects, counted through every level) a
    /// constructor, a `for` expression or a function may make: 262,144. Far beyond any
    /// security group's, this and ``maximumStringSize`` stop locals that double a value at
    /// each step (`a = "${local.b}${local.b}"`, `a = [local.b, local.b]`) from filling the
    /// memory or taking exponential time where the value is walked.
    static let maximumSize = 1 << 18

    /// Refuses a string longer than ``maximumStringSize``, or a list or object of more than
    /// ``maximumSize`` values in all.
    static func checkSize(_ value: HCLValue, at location: SourceLocation) throws(HCLProblem) {
        if case .string(let text) = value, text.utf8.count > maximumStringSize {
            throw HCLProblem(message: "a string is longer than 1 MiB", location: location)
        }
        // Counts values without recursion, stopping past the limit, so that a value shared
        // many times over costs at most the limit to measure.
        var count = 0
        var pending = [value]
        while let next = pending.popLast() {
            switch next {
            case .list(let items):
                count += items.count
                pending += items
            case .object(let fields):
                count += fields.count
                pending += fields.values
            default: continue
            }
            guard count <= maximumSize else {
                throw HCLProblem(
                    message: "a value holds more than \(maximumSize) values", location: location)
            }
        }
    }

    static func number(_ value: HCLValue, at location: SourceLocation) throws(HCLProblem) -> Double
    {
        switch value {
        case .number(let number): return number
        case .string(let text):
            if let number = Double(Self.trimmed(text)), number.isFinite { return number }
            throw HCLProblem(message: "'\(text)' is not a number", location: location)
        default:
            throw HCLProblem(
                message: "a number is required, not a \(value.typeName)", location: location)
        }
    }

    /// A value as a bool, converting `"true"` and `"false"` as Terraform does.
    static func bool(_ value: HCLValue, at location: SourceLocation) throws(HCLProblem) -> Bool {
        switch value {
        case .bool(let bool): return bool
        case .string("true"): return true
        case .string("false"): return false
        default:
            throw HCLProblem(message: "a bool is required, not \(value)", location: location)
        }
    }

    /// A value as a string for a template or a key: `.string`, or the unknown value that
    /// stands in for it (a reference is known only after apply).
    static func string(_ value: HCLValue, at location: SourceLocation) throws(HCLProblem)
        -> HCLValue
    {
        switch value {
        case .string: return value
        case .number(let number): return .string(HCLValue.format(number))
        case .bool(let bool): return .string(bool ? "true" : "false")
        case .unknown: return value
        case .reference(let reference):
            return .unknown(
                HCLUnknown(reason: "'\(reference)' is known only after apply", location: location))
        case .null:
            throw HCLProblem(message: "a string is required, not null", location: location)
        default:
            throw HCLProblem(
                message: "a string is required, not a \(value.typeName)", location: location)
        }
    }

    /// The elements of a set: without repeats, strings sorted as Terraform sorts them.
    static func set(_ items: [HCLValue]) -> [HCLValue] {
        var seen: Set<HCLValue> = []
        var unique: [HCLValue] = []
        for item in items where seen.insert(item).inserted { unique.append(item) }
        let strings = unique.compactMap { item -> String? in
            if case .string(let text) = item { return text }
            return nil
        }
        guard strings.count == unique.count else { return unique }
        return strings.sorted().map { .string($0) }
    }
}
