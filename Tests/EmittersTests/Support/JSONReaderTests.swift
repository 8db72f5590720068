import Foundation
import TestSupport
import Testing

@testable import Emitters

/// The JSON reader: JSON's grammar, strictly; the same values and lines as the YAML reader's
/// reading of the same text; and the errors, with their lines and columns.
@Suite struct JSONReaderTests {
    /// Every JSON file the repository carries: AWS goldens, moto's and kubectl's output, nft's
    /// JSON ruleset and a topology file.
    static let corpus: [Fixture] =
        ["golden", "Tests/Fixtures", "examples"].flatMap { folder in
            let root = Repository.root.appendingPathComponent(folder)
            let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
            return (files?.allObjects as? [URL] ?? [])
                .filter { $0.pathExtension == "json" }
                .map {
                    Fixture(
                        url: $0, name: String($0.path.dropFirst(Repository.root.path.count + 1)))
                }
        }
        .sorted { $0.name < $1.name }

    @Test func theCorpusIsThere() {
        #expect(Self.corpus.count >= 15)
    }

    /// JSON is YAML 1.2: the YAML reader's reading of every file is the same value, on the
    /// same lines (none of these files writes a whole number as a float).
    @Test(arguments: corpus)
    func readsLikeTheYAMLReader(file: Fixture) throws {
        let text = try file.text()
        let json = try JSONReader.value(text)
        let yaml = try #require(try YAMLReader.documents(text).first)
        #expect(json == yaml)
    }

    @Test func keepsDocumentOrderAndLines() throws {
        let text = """
            {"b": true,
              "a": [1, 1.5,
                "x"], "n": null, "e": {}, "s": []}
            """
        let value = try JSONReader.value(text)
        #expect(value.mapping?.map(\.key) == ["b", "a", "n", "e", "s"])
        #expect(value.mapping?.map(\.keyLine) == [1, 2, 3, 3, 3])
        #expect(value.line == 1)
        #expect(value["a"]?.line == 2)
        #expect(value["a"]?.sequence?.map(\.line) == [2, 2, 3])
        #expect(value["a"]?.sequence?.map(\.kind) == [.int(1), .double(1.5), .string("x")])
        #expect(value["b"]?.bool == true)
        #expect(value["n"]?.isNull == true)
        #expect(value["e"]?.mapping?.isEmpty == true)
        #expect(value["s"]?.sequence?.isEmpty == true)
    }

    @Test(arguments: [
        ("0", YAMLValue.Kind.int(0)), ("-0", .int(0)), ("443", .int(443)), ("1e2", .int(100)),
        ("1.0", .int(1)), ("1.5e3", .int(1500)), ("1.5", .double(1.5)), ("-2.5E-1", .double(-0.25)),
        ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
        ("true", .bool(true)), ("false", .bool(false)), ("null", .null),
        (#""caf\u00e9 \ud83d\udd12 \"\\\/\b\f\n\r\t""#, .string("café 🔒 \"\\/\u{8}\u{c}\n\r\t")),
        (#""plain é""#, .string("plain é")), ("\u{FEFF} \r\n\t 7 \n", .int(7)),
    ])
    func readsScalars(text: String, kind: YAMLValue.Kind) throws {
        #expect(try JSONReader.value(text).kind == kind)
    }

    @Test(arguments: [
        ("", 1, 1, "invalid JSON: unexpected end of text where a value should be"),
        ("{\"a\": 1,\n  \"b\": }", 2, 8, "invalid JSON: unexpected '}'"),
        ("[1, 2", 1, 6, "invalid JSON: unexpected end of text where ',' or ']' should be"),
        ("{\"a\": 1}\n\n[", 3, 1, "invalid JSON: unexpected '[' after the value"),
        ("[1,]", 1, 4, "invalid JSON: unexpected ']'"),
        ("{'a': 1}", 1, 2, "invalid JSON: unexpected ''' where a key"),
        ("[01]", 1, 2, "invalid JSON: a number has a leading zero"),
        ("[1.]", 1, 4, "invalid JSON: unexpected ']' where a digit should be"),
        ("[-]", 1, 3, "invalid JSON: unexpected ']' in a number"),
        ("[NaN]", 1, 2, "invalid JSON: unexpected 'N'"),
        ("[tru]", 1, 5, "invalid JSON: unexpected ']'"),
        ("// c\n{}", 1, 1, "invalid JSON: unexpected '/'"),
        ("\"a\nb\"", 1, 3, "invalid JSON: a control character (U+000A) in a string"),
        ("\"a", 1, 3, "invalid JSON: unterminated string"),
        ("\"\\x\"", 1, 2, "invalid JSON: '\\x' is not an escape of JSON"),
        ("\"\\u12\"", 1, 2, "invalid JSON: '\\u' takes four hexadecimal digits"),
        ("\"é\\ud800\"", 1, 3, "invalid JSON: a '\\u' escape of half a surrogate pair"),
        ("\"\\udc00\\ud800\"", 1, 2, "invalid JSON: a '\\u' escape of half a surrogate pair"),
        ("{\"a\": 1,\n \"a\": 2}", 2, 2, "duplicate key 'a' (first on line 1)"),
        (
            "[9223372036854775808]", 1, 2,
            "the integer '9223372036854775808' does not fit in 64 bits"
        ),
        ("[1e19]", 1, 2, "the integer '1e19' does not fit in 64 bits"),
        ("[1e400]", 1, 2, "the number '1e400' does not fit in a 64-bit float"),
        ("[1]\u{0}", 1, 4, "invalid JSON: unexpected U+0000 after the value"),
    ])
    func refusesWhatIsNotJSON(text: String, line: Int, column: Int, message: String) {
        #expect(throws: YAMLError.self) { try JSONReader.value(text) }
        do {
            _ = try JSONReader.value(text)
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.column == column, "\(error)")
            #expect(error.message.hasPrefix(message), "\(error)")
        }
    }

    @Test func nestsAsDeepAsTheYAMLReader() throws {
        let deepest = YAMLParser.maximumDepth
        let fits = String(repeating: "[", count: deepest) + String(repeating: "]", count: deepest)
        #expect(try JSONReader.value(fits).sequence?.count == 1)
        let tooDeep = "[" + fits + "]"
        #expect {
            try JSONReader.value(tooDeep)
        } throws: { error in
            (error as? YAMLError)?.message == "collections are nested deeper than 200 levels"
        }
        // The YAML reader says the same of the same text.
        #expect(throws: YAMLError.self) { try YAMLReader.documents(tooDeep) }
    }

    @Test func dataThatIsNotUTF8IsRefusedWithItsLine() {
        let data = Data("{\"a\":\n \"".utf8) + Data([0xFF]) + Data("\"}".utf8)
        #expect {
            try YAMLValue(json: data)
        } throws: { error in
            let error = error as? YAMLError
            return error?.line == 2 && error?.message == "invalid JSON: the text is not UTF-8"
        }
        let valid = try? YAMLValue(json: Data("{\"é\": [1]}".utf8))
        #expect(valid?["é"]?.sequence?.count == 1)
    }
}
