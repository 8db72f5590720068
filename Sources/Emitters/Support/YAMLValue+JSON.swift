public import Foundation

extension YAMLValue {
    /// Decodes a JSON document (`kubectl get -o json`) through Foundation's `JSONDecoder` (and
    /// `JSONSerialization` for the place of an error), into the value its YAML reading would
    /// have, without lines.
    ///
    /// For example, `{"spec": {"ports": [{"port": 443, "endPort": 1.5e3}], "on": true}}` decodes
    /// to a mapping whose `port` is `.int(443)`, `endPort` `.int(1500)` and `on` `.bool(true)`:
    /// JSON booleans stay booleans (not the numbers 1 and 0), and a whole number is an integer
    /// however it is written (the decoder does not keep the text); `1.5` is a float.
    ///
    /// Foundation's objects have no order and no lines: the entries of a mapping are sorted by
    /// key, every `line` and `keyLine` is nil, and of duplicate keys only one survives. To keep
    /// document order, lines and refuse duplicates, read the JSON text with
    /// ``YAMLReader/documents(_:)`` instead: JSON is YAML 1.2.
    ///
    /// - Throws: ``YAMLError`` for text that is not JSON, with the line Foundation points at (line
    ///   1 when it does not say), or for an integer that does not fit in 64 bits.
    public init(json: Data) throws(YAMLError) {
        // JSONDecoder builds native Swift values directly; JSONSerialization's NSNumbers and
        // bridged collections made a 27 MB `kubectl get -o json` take seconds.
        do {
            self = try JSONDecoder().decode(JSONDecoded.self, from: json).value
        } catch let error as YAMLError {
            throw error
        } catch {
            // JSONSerialization says where the text stops being JSON.
            do {
                _ = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
            } catch {
                throw Self.jsonError(error, in: json)
            }
            throw Self.jsonError(error, in: json)
        }
    }

    /// A JSON value decoded by `JSONDecoder`, as a ``YAMLValue``.
    private struct JSONDecoded: Decodable {
        var value: YAMLValue

        /// The keys of a JSON object, whatever they are.
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            if let object = try? decoder.container(keyedBy: Key.self) {
                var entries: [Entry] = []
                for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                    entries.append(
                        Entry(
                            key: key.stringValue,
                            value: try object.decode(JSONDecoded.self, forKey: key).value))
                }
                value = YAMLValue(.mapping(entries))
            } else if var array = try? decoder.unkeyedContainer() {
                var items: [YAMLValue] = []
                while !array.isAtEnd { items.append(try array.decode(JSONDecoded.self).value) }
                value = YAMLValue(.sequence(items))
            } else {
                let single = try decoder.singleValueContainer()
                if single.decodeNil() {
                    value = YAMLValue(.null)
                } else if let bool = try? single.decode(Bool.self) {
                    value = YAMLValue(.bool(bool))
                } else if let string = try? single.decode(String.self) {
                    value = YAMLValue(.string(string))
                } else if let int = try? single.decode(Int.self) {
                    value = YAMLValue(.int(int))
                } else {
                    let double = try single.decode(Double.self)
                    if double.rounded() == double && abs(double) >= 0x1p63 {
                        throw YAMLError(
                            line: 1, message: "the integer '\(double)' does not fit in 64 bits")
                    }
                    value = YAMLValue(.double(double))
                }
            }
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
