import TopologyModel

/// A value of the Terraform language as topogen evaluates it: known values, references to
/// what only exists after apply (a group's id), and unknown values with the reason they are
/// unknown.
///
/// Lists, sets and tuples are all ``list``; maps and objects are all ``object``. Numbers are
/// held as `Double`, enough for ports and counts.
///
/// For example: `var.ports` with the default `[443, 8443]` is
/// `.list([.number(443), .number(8443)])`; `aws_security_group.lb.id` is
/// `.reference(HCLReference(address: "aws_security_group.lb", attribute: "id"))`; a variable
/// without a default is `.unknown` with the reason `'var.ports' has no default`.
enum HCLValue: Hashable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// A list, set or tuple.
    case list([HCLValue])
    /// A map or object.
    case object([String: HCLValue])
    /// An attribute of a resource that is known only once the resource exists, such as a
    /// group's `id`: a string that stands for that resource.
    case reference(HCLReference)
    /// One instance of a resource; its attributes are evaluated when read.
    case resource(HCLResourceAddress)
    /// A value topogen cannot know, and why.
    case unknown(HCLUnknown)

    /// The type in words, for messages: `string`, `number`, `list`, `object`.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string, .reference: "string"
        case .list: "list"
        case .object, .resource: "object"
        case .unknown: "unknown"
        }
    }

    /// The first unknown value inside this one (itself, an element, an attribute), if any.
    var firstUnknown: HCLUnknown? {
        switch self {
        case .unknown(let unknown): return unknown
        case .list(let items):
            for item in items { if let unknown = item.firstUnknown { return unknown } }
            return nil
        case .object(let fields):
            for key in fields.keys.sorted() {
                if let unknown = fields[key]?.firstUnknown { return unknown }
            }
            return nil
        default: return nil
        }
    }
}

extension HCLValue: CustomStringConvertible {
    /// The value as Terraform's console would show it, shortened: `"text"`, `443`, `[...]`.
    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value): return Self.format(value)
        case .string(let text): return "\"\(text)\""
        case .list(let items):
            return items.count > 4
                ? "[...]" : "[\(items.map(\.description).joined(separator: ", "))]"
        case .object: return "{...}"
        case .reference(let reference): return reference.description
        case .resource(let address): return address.description
        case .unknown: return "(unknown)"
        }
    }

    /// A number as Terraform prints it: `443`, `0.5`.
    static func format(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Where a value comes from that topogen cannot know, in words, and where it was written.
///
/// For example: `'var.ports' has no default` at `variables.tf:3`.
struct HCLUnknown: Hashable, Sendable {
    /// Why the value is unknown, in the project's message style.
    var reason: String
    /// Where the cause was written, when known.
    var location: SourceLocation?
}

/// The address of one instance of a resource: `aws_security_group.this["server"]`,
/// `aws_security_group_rule.egress[0]`, `aws_security_group.lb`.
struct HCLResourceAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The key of an instance of a resource with `for_each` or `count`.
    enum Key: Hashable, Sendable, Comparable {
        /// A `for_each` key.
        case string(String)
        /// A `count` index.
        case index(Int)
    }

    /// The resource type, for example `aws_security_group`.
    var type: String
    /// The resource name, for example `this`.
    var name: String
    /// The instance key, when the resource has `for_each` or `count`.
    var key: Key?

    /// `type.name`, then `["key"]` or `[0]`.
    var description: String {
        let base = "\(type).\(name)"
        switch key {
        case .none: return base
        case .string(let text): return "\(base)[\"\(text)\"]"
        case .index(let index): return "\(base)[\(index)]"
        }
    }

    /// The order reports list instances in.
    static func < (lhs: HCLResourceAddress, rhs: HCLResourceAddress) -> Bool {
        if (lhs.type, lhs.name) != (rhs.type, rhs.name) {
            return (lhs.type, lhs.name) < (rhs.type, rhs.name)
        }
        switch (lhs.key, rhs.key) {
        case (.none, .none): return false
        case (.none, .some): return true
        case (.some, .none): return false
        case (.some(let a), .some(let b)): return a < b
        }
    }
}

/// An attribute of a resource instance that exists only once the resource does, such as a
/// group's `id`.
///
/// For example: `aws_security_group.this["lb"].id`.
struct HCLReference: Hashable, Sendable, CustomStringConvertible {
    /// The instance.
    var address: HCLResourceAddress
    /// The attribute, for example `id`.
    var attribute: String

    /// `address.attribute`.
    var description: String { "\(address).\(attribute)" }
}
