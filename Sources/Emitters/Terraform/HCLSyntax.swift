/// The body of an HCL file or block: its attributes and nested blocks, in the order written.
///
/// For example: the body of `resource "aws_security_group" "server" { name = "x" egress {} }`
/// holds the attribute `name` and one `egress` block.
struct HCLBody: Hashable, Sendable {
    /// The attributes, `name = expression`, in the order written.
    var attributes: [HCLAttribute] = []
    /// The nested blocks, in the order written.
    var blocks: [HCLBlock] = []

    /// The attribute of a name, if written.
    func attribute(_ name: String) -> HCLAttribute? {
        attributes.first { $0.name == name }
    }

    /// The nested blocks of one type, for example every `ingress` block.
    func blocks(_ type: String) -> [HCLBlock] {
        blocks.filter { $0.type == type }
    }
}

/// One attribute: `from_port = 443`, with the line its name is on.
struct HCLAttribute: Hashable, Sendable {
    /// The name, for example `from_port`.
    var name: String
    /// The expression that gives its value.
    var expression: HCLExpression
    /// The 1-based line of the name.
    var line: Int
}

/// One block: a type, its labels and a body, with the line its type is on.
///
/// For example: `resource "aws_security_group" "server" { ... }` has the type `resource` and
/// the labels `aws_security_group` and `server`.
struct HCLBlock: Hashable, Sendable {
    /// The block type, for example `resource`, `variable`, `ingress`.
    var type: String
    /// The labels, for example `["aws_security_group", "server"]`.
    var labels: [String]
    /// What the block holds.
    var body: HCLBody
    /// The 1-based line of the block type.
    var line: Int
}

/// An HCL expression as written, with the line it starts on: what the evaluator computes
/// values from.
///
/// For example: `var.ports[0]` is an index into the attribute `ports` of the variable root
/// `var`, and `"${var.prefix}-server"` a template of an interpolation and a literal.
struct HCLExpression: Hashable, Sendable {
    /// The operators of binary expressions.
    enum BinaryOperator: String, Hashable, Sendable {
        /// `||`.
        case or = "||"
        /// `&&`.
        case and = "&&"
        /// `==`.
        case equal = "=="
        /// `!=`.
        case notEqual = "!="
        /// `<`.
        case less = "<"
        /// `<=`.
        case lessOrEqual = "<="
        /// `>`.
        case greater = ">"
        /// `>=`.
        case greaterOrEqual = ">="
        /// `+`.
        case add = "+"
        /// `-`.
        case subtract = "-"
        /// `*`.
        case multiply = "*"
        /// `/`.
        case divide = "/"
        /// `%`.
        case modulo = "%"
    }

    /// One part of a string template: literal text or an interpolation, `${...}`.
    enum TemplatePart: Hashable, Sendable {
        /// Text as it is, escapes resolved.
        case literal(String)
        /// An interpolated expression.
        case interpolation(HCLExpression)
    }

    /// A `for` expression's clauses: `for KEY, VALUE in COLLECTION : ... if CONDITION`.
    struct ForClause: Hashable, Sendable {
        /// The name of the key (index) variable, when two names are written.
        var keyName: String?
        /// The name of the value variable.
        var valueName: String
        /// What is iterated over.
        var collection: HCLExpression
        /// The filter, `if ...`.
        var condition: HCLExpression?
    }

    /// What kind of expression, with its parts.
    indirect enum Kind: Hashable, Sendable {
        /// A number, a bool, null or a string without interpolation.
        case literal(HCLValue)
        /// A string with interpolations (or a heredoc).
        case template([TemplatePart])
        /// Something the parser read but topogen does not evaluate, with why: a template
        /// directive (`%{ if }`).
        case unsupported(String)
        /// `[a, b]`.
        case tuple([HCLExpression])
        /// `{ key = value, ... }`; bare identifier keys are literal strings.
        case object([ObjectItem])
        /// A root name: `var`, `local`, `each`, a resource type, a `for` variable.
        case variable(String)
        /// `base.name`.
        case attribute(HCLExpression, String)
        /// `base[key]` (also the legacy `base.0`).
        case index(HCLExpression, HCLExpression)
        /// `base[*].rest` or `base.*.rest`: `rest` applied to each element, written with
        /// ``splatItem`` as its root.
        case splat(HCLExpression, HCLExpression)
        /// The element in the traversal after a splat.
        case splatItem
        /// `name(arguments)`; `expandsLast` when the last argument ends in `...`.
        case call(String, [HCLExpression], expandsLast: Bool)
        /// `!a`.
        case not(HCLExpression)
        /// `-a`.
        case negate(HCLExpression)
        /// `a OP b`.
        case binary(BinaryOperator, HCLExpression, HCLExpression)
        /// `condition ? a : b`.
        case conditional(HCLExpression, HCLExpression, HCLExpression)
        /// `[for ... : value]`.
        case forTuple(ForClause, HCLExpression)
        /// `{for ... : key => value}`, with `...` grouping values of equal keys into lists.
        case forObject(ForClause, HCLExpression, HCLExpression, grouping: Bool)
    }

    /// One item of an object constructor.
    struct ObjectItem: Hashable, Sendable {
        /// The key: a literal string for a bare identifier.
        var key: HCLExpression
        /// The value.
        var value: HCLExpression
    }

    /// What the expression is.
    var kind: Kind
    /// The 1-based line it starts on.
    var line: Int

    /// A literal string.
    static func string(_ text: String, line: Int) -> HCLExpression {
        HCLExpression(kind: .literal(.string(text)), line: line)
    }
}

extension HCLExpression: CustomStringConvertible {
    /// The expression in short, as messages quote it: `var.ports[0]`, `cidrsubnet(...)`,
    /// `"literal"`.
    var description: String {
        switch kind {
        case .literal(let value): return value.description
        case .template: return "\"...\""
        case .unsupported: return "%{...}"
        case .tuple: return "[...]"
        case .object: return "{...}"
        case .variable(let name): return name
        case .attribute(let base, let name): return "\(base).\(name)"
        case .index(let base, let key):
            if case .literal(let value) = key.kind { return "\(base)[\(value)]" }
            return "\(base)[\(key)]"
        case .splat(let base, let rest):
            let tail = rest.description
            return "\(base)[*]\(tail == "*" ? "" : tail.dropFirst())"
        case .splatItem: return "*"
        case .call(let name, _, _): return "\(name)(...)"
        case .not(let operand): return "!\(operand)"
        case .negate(let operand): return "-\(operand)"
        case .binary(let op, let lhs, let rhs): return "\(lhs) \(op.rawValue) \(rhs)"
        case .conditional(let condition, _, _): return "\(condition) ? ... : ..."
        case .forTuple, .forObject: return "for ..."
        }
    }
}
