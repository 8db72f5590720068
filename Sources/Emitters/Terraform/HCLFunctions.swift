import TopologyModel

/// Terraform's built-in functions that security group configurations use, evaluated as
/// Terraform evaluates them: collections (`concat`, `merge`, `flatten`, `tolist`, `toset`,
/// `lookup`, `keys`, `values`, `distinct`, `compact`, `coalesce`, `zipmap`, ...), strings
/// (`format`, `join`, `split`, `lower`, `replace`, `substr`, `jsonencode`, ...), numbers,
/// `try` and `can`, and the CIDR functions `cidrsubnet`, `cidrhost` and `cidrnetmask`.
/// Every other function gives an unknown value that names it.
///
/// For example: `concat(["a"], ["b"])` is `["a", "b"]`; `cidrsubnet("10.0.0.0/16", 8, 2)` is
/// `"10.0.2.0/24"`; `regex("x", var.s)` is unknown: `'regex(...)' is not evaluated by topogen`.
extension HCLEvaluator {
    /// A function call.
    mutating func call(
        _ name: String, _ arguments: [HCLExpression], expandsLast: Bool, scope: HCLScope,
        location: SourceLocation
    ) throws(HCLProblem) -> HCLValue {
        // try and can see errors, so they evaluate their arguments themselves.
        if name == "try" {
            for argument in arguments {
                do {
                    return try evaluate(argument, in: scope)
                } catch {
                    continue
                }
            }
            throw HCLProblem(message: "no argument of 'try' has a value", location: location)
        }
        if name == "can" {
            guard arguments.count == 1 else {
                throw HCLProblem(message: "'can' takes one argument", location: location)
            }
            do {
                let value = try evaluate(arguments[0], in: scope)
                if let unknown = value.firstUnknown { return .unknown(unknown) }
                return .bool(true)
            } catch {
                return .bool(false)
            }
        }
        var values: [HCLValue] = []
        for argument in arguments { values.append(try evaluate(argument, in: scope)) }
        if expandsLast, let last = values.popLast() {
            switch last {
            case .list(let items): values += items
            case .unknown: return last
            default:
                throw HCLProblem(
                    message: "'...' expands a list, not a \(last.typeName)", location: location)
            }
        }
        return try Self.apply(name, values, at: location)
    }

    /// A function of evaluated arguments; the functions above are documented on the
    /// extension.
    private static func apply(_ name: String, _ values: [HCLValue], at location: SourceLocation)
        throws(HCLProblem) -> HCLValue
    {
        func fail(_ message: String) -> HCLProblem {
            HCLProblem(message: message, location: location)
        }
        func count(_ range: ClosedRange<Int>) throws(HCLProblem) {
            guard range.contains(values.count) else {
                throw fail(
                    "'\(name)' takes \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)") arguments, not \(values.count)"
                )
            }
        }
        func list(_ value: HCLValue) throws(HCLProblem) -> [HCLValue] {
            guard case .list(let items) = value else {
                throw fail("'\(name)' takes a list, not a \(value.typeName)")
            }
            return items
        }
        func text(_ value: HCLValue) throws(HCLProblem) -> String {
            guard case .string(let text) = try string(value, at: location) else {
                throw fail("'\(name)' needs a known string")
            }
            return text
        }
        // A whole number that fits in `Int`: `1e300`, `1/0` and `0.5` are refused, not
        // converted (a conversion out of range stops the process).
        func integer(_ value: HCLValue) throws(HCLProblem) -> Int {
            let number = try number(value, at: location)
            guard let integer = Int(exactly: number) else {
                throw fail("'\(name)' needs a whole number, not \(HCLValue.format(number))")
            }
            return integer
        }
        // Shallow: an unknown argument makes the result unknown.
        for value in values { if case .unknown = value { return value } }
        let structural: Set<String> = [
            "concat", "merge", "flatten", "tolist", "toset", "tomap", "lookup", "element", "keys",
            "values", "length", "coalesce", "coalescelist", "compact", "one", "zipmap", "reverse",
        ]
        if !structural.contains(name) {
            for value in values {
                if let unknown = value.firstUnknown { return .unknown(unknown) }
                if case .reference(let reference) = value {
                    return .unknown(
                        HCLUnknown(
                            reason: "'\(reference)' is known only after apply", location: location))
                }
            }
        }
        switch name {
        case "concat":
            var result: [HCLValue] = []
            for value in values { result += try list(value) }
            return .list(result)
        case "merge":
            var result: [String: HCLValue] = [:]
            for value in values {
                switch value {
                case .null: continue
                case .object(let fields): result.merge(fields) { $1 }
                default: throw fail("'merge' takes maps or objects, not a \(value.typeName)")
                }
            }
            return .object(result)
        case "flatten":
            try count(1...1)
            func flat(_ items: [HCLValue]) -> HCLValue {
                var result: [HCLValue] = []
                for item in items {
                    switch item {
                    case .list(let inner):
                        switch flat(inner) {
                        case .list(let flattened): result += flattened
                        case let other: return other
                        }
                    case .unknown: return item
                    default: result.append(item)
                    }
                }
                return .list(result)
            }
            return flat(try list(values[0]))
        case "tolist":
            try count(1...1)
            return .list(try list(values[0]))
        case "toset", "distinct":
            try count(1...1)
            let items = try list(values[0])
            if name == "toset" { return .list(set(items)) }
            var seen: Set<HCLValue> = []
            return .list(items.filter { seen.insert($0).inserted })
        case "tomap":
            try count(1...1)
            guard case .object = values[0] else { throw fail("'tomap' takes a map or an object") }
            return values[0]
        case "tostring":
            try count(1...1)
            if case .null = values[0] { return .null }
            return try string(values[0], at: location)
        case "tonumber":
            try count(1...1)
            if case .null = values[0] { return .null }
            return .number(try number(values[0], at: location))
        case "tobool":
            try count(1...1)
            if case .null = values[0] { return .null }
            return .bool(try bool(values[0], at: location))
        case "length":
            try count(1...1)
            switch values[0] {
            case .list(let items): return .number(Double(items.count))
            case .object(let fields): return .number(Double(fields.count))
            case .string(let text): return .number(Double(text.count))
            default:
                throw fail("'length' takes a collection or a string, not a \(values[0].typeName)")
            }
        case "lookup":
            try count(2...3)
            guard case .object(let fields) = values[0] else {
                throw fail("'lookup' takes a map, not a \(values[0].typeName)")
            }
            let key = try text(values[1])
            if let field = fields[key] { return field }
            guard values.count == 3 else { throw fail("the key '\(key)' does not exist") }
            return values[2]
        case "element":
            try count(2...2)
            let items = try list(values[0])
            guard !items.isEmpty else { throw fail("'element' of an empty list") }
            let index = try integer(values[1])
            return items[((index % items.count) + items.count) % items.count]
        case "keys", "values":
            try count(1...1)
            guard case .object(let fields) = values[0] else {
                throw fail("'\(name)' takes a map, not a \(values[0].typeName)")
            }
            let sorted = fields.keys.sorted()
            return .list(
                name == "keys" ? sorted.map { .string($0) } : sorted.map { fields[$0] ?? .null })
        case "contains":
            try count(2...2)
            return .bool(try list(values[0]).contains(values[1]))
        case "coalesce":
            for value in values {
                switch value {
                case .null, .string(""): continue
                default: return value
                }
            }
            throw fail("no argument of 'coalesce' is set")
        case "coalescelist":
            for value in values where !(try list(value)).isEmpty { return value }
            return .list([])
        case "compact":
            try count(1...1)
            return .list(
                try list(values[0]).filter {
                    if case .null = $0 { return false }
                    if case .string("") = $0 { return false }
                    return true
                })
        case "one":
            try count(1...1)
            let items = try list(values[0])
            guard items.count <= 1 else { throw fail("'one' of a list of \(items.count) elements") }
            return items.first ?? .null
        case "zipmap":
            try count(2...2)
            let names = try list(values[0])
            let items = try list(values[1])
            guard names.count == items.count else {
                throw fail("'zipmap' of lists of different lengths")
            }
            var result: [String: HCLValue] = [:]
            for (key, value) in zip(names, items) { result[try text(key)] = value }
            return .object(result)
        case "reverse":
            try count(1...1)
            return .list(try list(values[0]).reversed())
        case "sort":
            try count(1...1)
            var strings: [String] = []
            for item in try list(values[0]) { strings.append(try text(item)) }
            return .list(strings.sorted().map { .string($0) })
        case "setunion":
            var items: [HCLValue] = []
            for value in values { items += try list(value) }
            return .list(set(items))
        case "setintersection":
            guard let first = values.first else { throw fail("'setintersection' needs a set") }
            var items = Set(try list(first))
            for value in values.dropFirst() { items.formIntersection(try list(value)) }
            return .list(set(Array(items)))
        case "setsubtract":
            try count(2...2)
            let removed = Set(try list(values[1]))
            return .list(set(try list(values[0]).filter { !removed.contains($0) }))
        case "range":
            try count(1...3)
            var numbers: [Double] = []
            for value in values { numbers.append(try number(value, at: location)) }
            let (start, end, step) =
                numbers.count == 1
                ? (0, numbers[0], 1)
                : (
                    numbers[0], numbers[1],
                    numbers.count == 3 ? numbers[2] : (numbers[1] >= numbers[0] ? 1 : -1)
                )
            guard step != 0, abs((end - start) / step) <= 1024 else {
                throw fail("'range' is too long")
            }
            return .list(stride(from: start, to: end, by: step).map { .number($0) })
        case "alltrue", "anytrue":
            try count(1...1)
            var bools: [Bool] = []
            for item in try list(values[0]) { bools.append(try bool(item, at: location)) }
            return .bool(name == "alltrue" ? bools.allSatisfy { $0 } : bools.contains(true))
        case "join":
            try count(2...2)
            let separator = try text(values[0])
            var parts: [String] = []
            for item in try list(values[1]) { parts.append(try text(item)) }
            return .string(parts.joined(separator: separator))
        case "split":
            try count(2...2)
            let separator = try text(values[0])
            let whole = try text(values[1])
            guard !separator.isEmpty else { return .list(whole.map { .string(String($0)) }) }
            return .list(
                whole.split(separator: separator, omittingEmptySubsequences: false).map {
                    .string(String($0))
                })
        case "lower", "upper", "trimspace":
            try count(1...1)
            let value = try text(values[0])
            switch name {
            case "lower": return .string(value.lowercased())
            case "upper": return .string(value.uppercased())
            default: return .string(String(trimmed(value)))
            }
        case "trimprefix", "trimsuffix", "startswith", "endswith", "strcontains":
            try count(2...2)
            let value = try text(values[0])
            let part = try text(values[1])
            switch name {
            case "trimprefix":
                return .string(value.hasPrefix(part) ? String(value.dropFirst(part.count)) : value)
            case "trimsuffix":
                return .string(value.hasSuffix(part) ? String(value.dropLast(part.count)) : value)
            case "startswith": return .bool(value.hasPrefix(part))
            case "endswith": return .bool(value.hasSuffix(part))
            default: return .bool(value.contains(part))
            }
        case "replace":
            try count(3...3)
            let pattern = try text(values[1])
            if pattern.count > 1 && pattern.hasPrefix("/") && pattern.hasSuffix("/") {
                return .unknown(
                    HCLUnknown(
                        reason: "'replace' with a regular expression is not evaluated by topogen",
                        location: location))
            }
            return .string(try text(values[0]).replacing(pattern, with: try text(values[2])))
        case "substr":
            try count(3...3)
            let characters = Array(try text(values[0]))
            var offset = try integer(values[1])
            var length = try integer(values[2])
            if offset < 0 { offset = max(offset, -characters.count) + characters.count }
            offset = max(0, min(offset, characters.count))
            if length < 0 || length > characters.count - offset {
                length = characters.count - offset
            }
            return .string(String(characters[offset..<(offset + length)]))
        case "format":
            guard let first = values.first else { throw fail("'format' needs a format") }
            return .string(try format(try text(first), Array(values.dropFirst()), at: location))
        case "jsonencode":
            try count(1...1)
            return .string(try json(values[0], at: location))
        case "min", "max", "abs", "floor", "ceil":
            var numbers: [Double] = []
            for value in values { numbers.append(try number(value, at: location)) }
            guard let first = numbers.first else { throw fail("'\(name)' needs a number") }
            switch name {
            case "min": return .number(numbers.min() ?? first)
            case "max": return .number(numbers.max() ?? first)
            case "abs": return .number(abs(first))
            case "floor": return .number(first.rounded(.down))
            default: return .number(first.rounded(.up))
            }
        case "cidrnetmask":
            try count(1...1)
            let (address, prefix) = try network(try text(values[0]), at: location)
            guard address.family == .ipv4 else { throw fail("'cidrnetmask' takes an IPv4 network") }
            let mask = prefix == 0 ? UInt32(0) : UInt32.max << (32 - UInt32(prefix))
            return .string(IPAddress(ipv4: mask).description)
        case "cidrsubnet":
            try count(3...3)
            let (address, prefix) = try network(try text(values[0]), at: location)
            let bits = try integer(values[1])
            let index = try number(values[2], at: location)
            let width = address.bitWidth
            guard bits >= 0, bits <= width - prefix, index >= 0, index < 0x1p128,
                bits >= 64 || index < Double(UInt64(1) << UInt64(bits))
            else {
                throw fail(
                    "'cidrsubnet' cannot add \(bits) bits to a /\(prefix) for subnet \(HCLValue.format(index))"
                )
            }
            let length = prefix + bits
            let base = value(address.masked(toPrefix: prefix))
            let shifted =
                length == width ? UInt128(index) : UInt128(index) << UInt128(width - length)
            return .string(cidr(base | shifted, family: address.family, prefix: length))
        case "cidrhost":
            try count(2...2)
            let (address, prefix) = try network(try text(values[0]), at: location)
            let host = try number(values[1], at: location)
            let size =
                prefix == 0 ? UInt128.max : (UInt128(1) << UInt128(address.bitWidth - prefix)) - 1
            guard host >= 0, host < 0x1p128, UInt128(host) <= size else {
                throw fail("'cidrhost': host \(HCLValue.format(host)) is outside the network")
            }
            let base = value(address.masked(toPrefix: prefix))
            let host128 = base | UInt128(host)
            return .string(
                cidr(host128, family: address.family, prefix: address.bitWidth).split(
                    separator: "/"
                ).first.map(String.init) ?? "")
        default:
            return .unknown(
                HCLUnknown(reason: "'\(name)(...)' is not evaluated by topogen", location: location)
            )
        }
    }

    /// Text without leading and trailing white space.
    static func trimmed(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
            let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return text[first...last]
    }

    /// An address and prefix, host bits allowed as Terraform's CIDR functions allow them.
    private static func network(_ text: String, at location: SourceLocation) throws(HCLProblem)
        -> (IPAddress, Int)
    {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(parts[0]), let prefix = Int(parts[1]),
            prefix >= 0, prefix <= address.bitWidth
        else {
            throw HCLProblem(message: "'\(text)' is not a CIDR", location: location)
        }
        return (address, prefix)
    }

    /// An address as a number.
    private static func value(_ address: IPAddress) -> UInt128 {
        address.family == .ipv4
            ? UInt128(address.low & 0xFFFF_FFFF)
            : UInt128(address.high) << 64 | UInt128(address.low)
    }

    /// `address/prefix` of a number.
    private static func cidr(_ value: UInt128, family: IPFamily, prefix: Int) -> String {
        let address =
            family == .ipv4
            ? IPAddress(ipv4: UInt32(truncatingIfNeeded: value))
            : IPAddress(
                ipv6High: UInt64(truncatingIfNeeded: value >> 64),
                low: UInt64(truncatingIfNeeded: value))
        return "\(address)/\(prefix)"
    }

    /// `format` with the verbs `%s`, `%d`, `%v`, `%q` and `%%` (flags and widths are
    /// ignored).
    private static func format(
        _ template: String, _ values: [HCLValue], at location: SourceLocation
    )
        throws(HCLProblem) -> String
    {
        var result = ""
        var remaining = values[...]
        var characters = template.makeIterator()
        while let character = characters.next() {
            guard character == "%" else {
                result.append(character)
                continue
            }
            var verb = characters.next()
            while let flag = verb, "0123456789.+-# ".contains(flag) { verb = characters.next() }
            guard let verb else {
                throw HCLProblem(message: "'format' ends in '%'", location: location)
            }
            if verb == "%" {
                result.append("%")
                continue
            }
            guard let value = remaining.popFirst() else {
                throw HCLProblem(message: "'format' has more verbs than values", location: location)
            }
            switch verb {
            case "s", "d", "v":
                if case .string(let text) = value {
                    result += text
                } else {
                    result += try json(value, at: location)
                }
            case "q": result += try json(value, at: location)
            default:
                throw HCLProblem(
                    message: "'format' verb '%\(verb)' is not evaluated by topogen",
                    location: location)
            }
        }
        return result
    }

    /// JSON as `jsonencode` writes it: keys sorted, no spaces.
    private static func json(_ value: HCLValue, at location: SourceLocation) throws(HCLProblem)
        -> String
    {
        switch value {
        case .null: return "null"
        case .bool(let bool): return bool ? "true" : "false"
        case .number(let number): return HCLValue.format(number)
        case .string(let text): return JSONValue.quoted(text, escapingHTML: true)
        case .list(let items):
            var parts: [String] = []
            for item in items { parts.append(try json(item, at: location)) }
            return "[" + parts.joined(separator: ",") + "]"
        case .object(let fields):
            var parts: [String] = []
            for key in fields.keys.sorted() {
                parts.append(
                    try json(.string(key), at: location) + ":"
                        + (try json(fields[key] ?? .null, at: location)))
            }
            return "{" + parts.joined(separator: ",") + "}"
        case .reference(let reference):
            throw HCLProblem(
                message: "'\(reference)' is known only after apply", location: location)
        case .resource(let address):
            throw HCLProblem(message: "'\(address)' cannot be written as JSON", location: location)
        case .unknown(let unknown):
            throw HCLProblem(unknown, at: location)
        }
    }
}
