public import Foundation

extension YAMLValue {
    /// Decodes a JSON document (`kubectl get -o json`) through Foundation's `JSONSerialization`,
    /// into the value its YAML reading would have, without lines.
    ///
    /// For example, `{"spec": {"ports": [{"port": 443, "endPort": 1.5e3}], "on": true}}` decodes
    /// to a mapping whose `port` is `.int(443)`, `endPort` `.double(1500)` and `on` `.bool(true)`:
    /// JSON booleans stay booleans (not the numbers 1 and 0), and a number written with a
    /// fraction or an exponent is a float even when whole, as in YAML.
    ///
    /// Foundation's objects have no order and no lines: the entries of a mapping are sorted by
    /// key, every `line` and `keyLine` is nil, and of duplicate keys only one survives. To keep
    /// document order, lines and refuse duplicates, read the JSON text with
    /// ``YAMLReader/documents(_:)`` instead: JSON is YAML 1.2.
    ///
    /// - Throws: ``YAMLError`` for text that is not JSON, with the line Foundation points at (line
    ///   1 when it does not say), or for an integer that does not fit in `Int`.
    public init(json: Data) throws(YAMLError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        } catch {
            throw Self.jsonError(error, in: json)
        }
        self = try Self.decoded(object)
    }

    private static func decoded(_ object: Any) throws(YAMLError) -> YAMLValue {
        switch object {
        case is NSNull:
            return YAMLValue(.null)
        case let string as String:
            return YAMLValue(.string(string))
        case let number as NSNumber:
            // JSON booleans are NSNumbers too; only they have the type of a C char.
            switch String(cString: number.objCType) {
            case "c", "B":
                return YAMLValue(.bool(number.boolValue))
            case "d", "f":
                return YAMLValue(.double(number.doubleValue))
            case "Q":
                guard number.uint64Value <= UInt64(Int.max) else {
                    throw YAMLError(
                        line: 1,
                        message: "the integer '\(number.uint64Value)' does not fit in 64 bits")
                }
                return YAMLValue(.int(Int(number.uint64Value)))
            default:
                return YAMLValue(.int(number.intValue))
            }
        case let array as [Any]:
            var items: [YAMLValue] = []
            for item in array { items.append(try decoded(item)) }
            return YAMLValue(.sequence(items))
        case let object as [String: Any]:
            var entries: [Entry] = []
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                entries.append(Entry(key: key, value: try decoded(value)))
            }
            return YAMLValue(.mapping(entries))
        default:
            throw YAMLError(line: 1, message: "unexpected JSON value '\(object)'")
        }
    }

    /// The error for JSON that Foundation refuses, at the line of the character it names
    /// (`... around character 13.`), or of the end for `Unexpected end of file`.
    private static func jsonError(_ error: any Error, in json: Data) -> YAMLError {
        let reason =
            ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String)
            ?? error.localizedDescription
        var offset: Int?
        if let range = reason.range(of: "character ") {
            offset = Int(reason[range.upperBound...].prefix { $0.isNumber })
        } else if reason.lowercased().contains("end of file") {
            offset = json.count
        }
        var line = 1
        var column: Int?
        if let offset {
            let prefix = json.prefix(offset)
            line = 1 + prefix.count { $0 == UInt8(ascii: "\n") }
            let lineStart =
                prefix.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? json.startIndex
            column = 1 + prefix[lineStart...].count { $0 & 0xC0 != 0x80 }
        }
        var message = reason.hasSuffix(".") ? String(reason.dropLast()) : reason
        if let first = message.first {
            message = first.lowercased() + message.dropFirst()
        }
        return YAMLError(line: line, column: column, message: "invalid JSON: \(message)")
    }
}
