/// A value of a YAML or JSON document, with the line it starts on.
///
/// ``YAMLReader/documents(_:)`` reads YAML text into values; ``init(json:)`` decodes JSON.
/// For example, the document
///
/// ```yaml
/// kind: NetworkPolicy
/// spec:
///   ports:
///   - port: 443
/// ```
///
/// reads as a mapping (line 1) whose entry `spec` (line 2) holds a mapping (line 3) whose entry
/// `ports` holds a sequence (line 4) of one mapping, `port` → `.int(443)`; so
/// `document["spec"]?["ports"]?.sequence?.first?["port"]?.int` is `443`.
///
/// Two values are equal when they say the same thing on the same lines: compare
/// ``withoutLines`` to ignore where they were written.
public struct YAMLValue: Hashable, Sendable {
    /// What a value is: a scalar of the YAML 1.2 core schema, a sequence or a mapping.
    ///
    /// A plain (unquoted) scalar is resolved as the core schema says: `~`, `null` and the empty
    /// value are null; `true` and `false` (also `True`, `TRUE`, ...) are booleans; `443`, `-1`,
    /// `0x1F` and `0o17` are integers; `1.5`, `1e3`, `.inf` and `.nan` are floats; anything else,
    /// including `yes`, `no`, `on` and `off` (booleans in YAML 1.1 only), is a string. A quoted
    /// scalar or a block scalar (`|`, `>`) is always a string.
    public enum Kind: Hashable, Sendable {
        /// `~`, `null`, `Null`, `NULL` or nothing at all, as in `key:`.
        case null
        /// `true` or `false`, in lower case, capitalized or upper case.
        case bool(Bool)
        /// A decimal integer with an optional sign (`443`, `-1`, `+7`, `007`), or `0o17` (octal)
        /// or `0x1F` (hexadecimal); one that does not fit in `Int` is an error.
        case int(Int)
        /// A float: `1.5`, `-.5`, `1e3`, `1.`, `.inf`, `-.Inf`, `.nan` (which, as in Swift, is
        /// not equal to itself).
        case double(Double)
        /// A quoted or block scalar, or a plain scalar that is none of the above: `TCP`,
        /// `10.0.0.0/8`, `"80"`.
        case string(String)
        /// A block sequence (`- a`) or a flow sequence (`[a, b]`).
        case sequence([YAMLValue])
        /// A block mapping (`key: value`) or a flow mapping (`{key: value}`), in document order,
        /// without duplicate keys.
        case mapping([Entry])
    }

    /// An entry of a mapping: `port: 443` is the key `port` and the value `.int(443)`.
    ///
    /// Keys are scalars. A key that is not a string is kept as its canonical text, as
    /// Kubernetes' YAML-to-JSON conversion does: `80: x` and `0x50: x` have the key `80`,
    /// `true: x` has `true`, `~: x` has `null`, `.5: x` has `0.5` and `.inf: x` has `.inf`.
    public struct Entry: Hashable, Sendable {
        /// The key.
        public var key: String
        /// The 1-based line of the key; nil for entries decoded from JSON through Foundation.
        public var keyLine: Int?
        /// The value.
        public var value: YAMLValue

        /// Creates an entry.
        public init(key: String, keyLine: Int? = nil, value: YAMLValue) {
            self.key = key
            self.keyLine = keyLine
            self.value = value
        }
    }

    /// What the value is.
    public var kind: Kind
    /// The 1-based line the value starts on; nil for values decoded from JSON through Foundation.
    ///
    /// A collection starts with its first entry (its first key, its first `-`, its `[` or
    /// `{`), a block scalar with its `|` or `>`, and an empty value (`key:`) on the line of its
    /// key or `-`.
    public var line: Int?

    /// Creates a value, for example `YAMLValue(.int(443), line: 12)`.
    public init(_ kind: Kind, line: Int? = nil) {
        self.kind = kind
        self.line = line
    }

    /// The value of `key` in a mapping: `value["spec"]`; nil when the key is absent or the value
    /// is not a mapping.
    public subscript(key: String) -> YAMLValue? {
        guard case .mapping(let entries) = kind else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The string of a string value (quoted or not), nil for anything else: the `int` `80` is
    /// not the string `"80"`.
    public var string: String? {
        guard case .string(let value) = kind else { return nil }
        return value
    }

    /// The integer of an integer value, nil for anything else (a float or a string).
    public var int: Int? {
        guard case .int(let value) = kind else { return nil }
        return value
    }

    /// The boolean of a boolean value, nil for anything else.
    public var bool: Bool? {
        guard case .bool(let value) = kind else { return nil }
        return value
    }

    /// The float of a float value, nil for anything else (an integer too).
    public var double: Double? {
        guard case .double(let value) = kind else { return nil }
        return value
    }

    /// The items of a sequence, nil for anything else.
    public var sequence: [YAMLValue]? {
        guard case .sequence(let items) = kind else { return nil }
        return items
    }

    /// The entries of a mapping in document order, nil for anything else.
    public var mapping: [Entry]? {
        guard case .mapping(let entries) = kind else { return nil }
        return entries
    }

    /// Whether the value is null: `~`, `null` or empty.
    public var isNull: Bool { kind == .null }

    /// The same value with every line removed, to compare what two documents say regardless of
    /// where they say it (a YAML document with its JSON form, for example).
    public var withoutLines: YAMLValue {
        switch kind {
        case .null, .bool, .int, .double, .string:
            return YAMLValue(kind)
        case .sequence(let items):
            return YAMLValue(.sequence(items.map(\.withoutLines)))
        case .mapping(let entries):
            return YAMLValue(
                .mapping(entries.map { Entry(key: $0.key, value: $0.value.withoutLines) }))
        }
    }
}

/// Why a text is not YAML that topogen reads; always with the 1-based line, and the column when
/// known.
///
/// For example: `line 7: anchors ('&ports') are not supported; write the value out`.
public struct YAMLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line of the problem.
    public var line: Int
    /// The 1-based column of the problem, in Unicode scalars, when known.
    public var column: Int?
    /// The problem, lower case, with offending values in single quotes.
    public var message: String

    /// Creates the error.
    public init(line: Int, column: Int? = nil, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line 12: tabs are not allowed for indentation`: the line and the message (the column is
    /// left to ``column``).
    public var description: String { "line \(line): \(message)" }
}
