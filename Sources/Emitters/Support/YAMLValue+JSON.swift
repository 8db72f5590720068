public import FoundationEssentials

extension YAMLValue {
    /// Reads a JSON document (`kubectl get -o json`, a topology file) into the value its YAML
    /// reading would have, lines included (see ``JSONReader``).
    ///
    /// For example, `{"spec": {"ports": [{"port": 443, "endPort": 1.5e3}], "on": true}}` reads
    /// as a mapping whose `port` is `.int(443)`, `endPort` `.int(1500)` and `on` `.bool(true)`:
    /// JSON booleans stay booleans (not the numbers 1 and 0), and a whole number is an integer
    /// however it is written; `1.5` is a float. Mappings keep document order, and a duplicate
    /// key is an error, as in YAML.
    ///
    /// - Throws: ``YAMLError`` for text that is not UTF-8 or not JSON, with its line and column,
    ///   for a duplicate key, or for a number that does not fit in 64 bits.
    public init(json: Data) throws(YAMLError) {
        guard let text = String(validating: json, as: UTF8.self) else {
            // The line of the first byte that is not UTF-8.
            var bytes = json.makeIterator()
            var codec = UTF8()
            var valid = 0
            while case .scalarValue(let scalar) = codec.decode(&bytes) {
                valid += UTF8.width(scalar)
            }
            let line = 1 + json.prefix(valid).count { $0 == UInt8(ascii: "\n") }
            throw YAMLError(line: line, message: "invalid JSON: the text is not UTF-8")
        }
        self = try JSONReader.value(text)
    }
}
