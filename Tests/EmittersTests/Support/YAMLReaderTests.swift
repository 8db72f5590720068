import Foundation
import Testing

@testable import Emitters

/// A value as compact text that tells every kind apart: `{"a": 1, "b": ["x", null, true, 1.5]}`.
/// Strings and keys are quoted; floats always show a `.`, an exponent, `inf` or `nan`.
private func render(_ value: YAMLValue) -> String {
    switch value.kind {
    case .null: return "null"
    case .bool(let value): return String(value)
    case .int(let value): return String(value)
    case .double(let value): return value.description
    case .string(let value): return quoted(value)
    case .sequence(let items): return "[" + items.map(render).joined(separator: ", ") + "]"
    case .mapping(let entries):
        return "{"
            + entries.map { quoted($0.key) + ": " + render($0.value) }.joined(separator: ", ")
            + "}"
    }
}

private func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        default:
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}

/// Every document of `text`, rendered.
private func documents(_ text: String) throws -> [String] {
    try YAMLReader.documents(text).map(render)
}

/// The one document of `text`, rendered.
private func document(_ text: String) throws -> String {
    let documents = try YAMLReader.documents(text)
    try #require(documents.count == 1, "\(documents.count) documents in \(text.debugDescription)")
    return render(documents[0])
}

/// The value of `v` in `text`, rendered.
private func value(_ text: String) throws -> String {
    let documents = try YAMLReader.documents(text)
    return try render(#require(documents.first?["v"], "no 'v' in \(text.debugDescription)"))
}

/// The error that reading `text` throws; nil when it reads.
private func failure(_ text: String) -> YAMLError? {
    do {
        _ = try YAMLReader.documents(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct YAMLReaderTests {
    // MARK: - Block collections

    @Test func sequencesIndentedUnderTheirKeyOrAtItsColumnAreTheSame() throws {
        let expected = #"{"ports": [{"port": 80, "protocol": "TCP"}, {"port": 443}], "next": 1}"#
        #expect(
            try document("ports:\n- port: 80\n  protocol: TCP\n- port: 443\nnext: 1\n") == expected)
        #expect(
            try document("ports:\n  - port: 80\n    protocol: TCP\n  - port: 443\nnext: 1\n")
                == expected)
        #expect(
            try document(
                "ports:\n    -   port: 80\n        protocol: TCP\n    -   port: 443\nnext: 1")
                == expected)
    }

    @Test func compactNesting() throws {
        #expect(try document("- - x\n  - y\n- z\n") == #"[["x", "y"], "z"]"#)
        #expect(try document("- - - x\n    - y\n  - z\n") == #"[[["x", "y"], "z"]]"#)
        #expect(
            try document("- key: v\n  other: w\n- k: 1\n")
                == #"[{"key": "v", "other": "w"}, {"k": 1}]"#)
        #expect(try document("- a:\n  - b\n  c: d\n") == #"[{"a": ["b"], "c": "d"}]"#)
        #expect(try document("-\n  a: 1\n-\n  - x\n") == #"[{"a": 1}, ["x"]]"#)
        #expect(try document("- # comment\n  a: 1\n") == #"[{"a": 1}]"#)
    }

    @Test func nestedMappingsEndWhereTheIndentationGoesBack() throws {
        #expect(
            try document("a:\n  b:\n    c: 1\n  d: 2\ne: 3\n")
                == #"{"a": {"b": {"c": 1}, "d": 2}, "e": 3}"#)
        #expect(try document("  a: 1\n  b: 2\n") == #"{"a": 1, "b": 2}"#)
        #expect(
            try document("top:\n    four: 1\n    more:\n        - x\n")
                == #"{"top": {"four": 1, "more": ["x"]}}"#)
    }

    @Test func emptyValuesAreNull() throws {
        #expect(
            try document("a:\nb: ~\nc: null\nd:   # comment\ne:\n")
                == #"{"a": null, "b": null, "c": null, "d": null, "e": null}"#)
        #expect(try document("- \n-\n- x\n-") == #"[null, null, "x", null]"#)
        #expect(
            try document("a:\n  # only a comment below the key\nb: 1\n") == #"{"a": null, "b": 1}"#)
    }

    // MARK: - Flow collections

    @Test func flowCollections() throws {
        #expect(try value("v: [a, b]") == #"["a", "b"]"#)
        #expect(try value("v: {a: 1, b: [x, y]}") == #"{"a": 1, "b": ["x", "y"]}"#)
        #expect(try value("v: [a, b, ]") == #"["a", "b"]"#)
        #expect(try value("v: [ ]") == "[]")
        #expect(try value("v: {}") == "{}")
        #expect(try value("v: {a, b: c}") == #"{"a": null, "b": "c"}"#)
        #expect(try value("v: [a: 1, b]") == #"[{"a": 1}, "b"]"#)
        #expect(
            try value(#"v: {"a":1,"b":[true,null,"x"]}"#) == #"{"a": 1, "b": [true, null, "x"]}"#)
        #expect(
            try value("v: [http://x:80/y, a:b, -1, -x, :x]")
                == #"["http://x:80/y", "a:b", -1, "-x", ":x"]"#)
        #expect(try value("v: [{a: 1}, [2], '3', \"4\"]") == #"[{"a": 1}, [2], "3", "4"]"#)
    }

    @Test func flowCollectionsAcrossLines() throws {
        #expect(
            try value("v: {a: 1,\n  b: [x,\n    y],  # comment\n  c:\n    2}\n")
                == #"{"a": 1, "b": ["x", "y"], "c": 2}"#)
        #expect(try value("v: [\n  one\n  two,\n\n  three\n  ]\n") == #"["one two", "three"]"#)
        // The closing bracket may be at the column of the key, as JSON is often written.
        #expect(try value("v: {\n  \"a\": 1\n}\n") == #"{"a": 1}"#)
        // Tabs separate inside flow collections (YAML 1.2).
        #expect(try value("v: [x,\n \t y]\n") == #"["x", "y"]"#)
        #expect(try document("{\n\"a\": [1,\n2]\n}\n") == #"{"a": [1, 2]}"#)
    }

    // MARK: - Plain scalars

    @Test func plainScalarsKeepColonsAndHashesThatAreNotIndicators() throws {
        #expect(
            try value("v: http://example.com:8080/a?b=c#d") == #""http://example.com:8080/a?b=c#d""#
        )
        #expect(try value("v: 10.0.0.0/8") == #""10.0.0.0/8""#)
        #expect(try value("v: a:b") == #""a:b""#)
        #expect(try value("v: a#b # comment") == #""a#b""#)
        #expect(try value("v: 2001:db8::/32") == #""2001:db8::/32""#)
        #expect(try value("v: -x") == #""-x""#)
        #expect(try value("v: a [b] {c}, d") == #""a [b] {c}, d""#)
        #expect(try value("v: ---not-a-marker") == #""---not-a-marker""#)
        #expect(
            try document(#"k:{"port":80,"protocol":"TCP"}: {}"#)
                == #"{"k:{\"port\":80,\"protocol\":\"TCP\"}": {}}"#)
    }

    @Test func plainScalarsFoldAcrossLines() throws {
        #expect(
            try value("v: this plain\n  scalar goes\n\n  on\n") == #""this plain scalar goes\non""#)
        #expect(try document("- foo\n  bar\n- baz\n") == #"["foo bar", "baz"]"#)
        // A more indented line goes on with the scalar, even when it looks like an entry.
        #expect(try document("- a\n  - b\n - c\n") == #"["a - b - c"]"#)
        #expect(try document("b: 1\n - y\n") == #"{"b": "1 - y"}"#)
        #expect(try document("foo\nbar\n") == #""foo bar""#)
        #expect(try document("a: x\n  # comment ends it\nb: y\n") == #"{"a": "x", "b": "y"}"#)
    }

    // MARK: - The core schema

    @Test(arguments: [
        ("~", "null"), ("null", "null"), ("Null", "null"), ("NULL", "null"), ("", "null"),
        ("true", "true"), ("True", "true"), ("TRUE", "true"),
        ("false", "false"), ("False", "false"), ("FALSE", "false"),
        // YAML 1.1 booleans are strings in YAML 1.2.
        ("yes", #""yes""#), ("no", #""no""#), ("on", #""on""#), ("off", #""off""#),
        ("y", #""y""#), ("n", #""n""#), ("Yes", #""Yes""#), ("OFF", #""OFF""#),
        ("nULL", #""nULL""#), ("tRUE", #""tRUE""#), ("~x", #""~x""#),
        ("443", "443"), ("-1", "-1"), ("+7", "7"), ("007", "7"), ("0", "0"), ("-0", "0"),
        ("0x1F", "31"), ("0o17", "15"), ("0xff", "255"),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("0X1F", #""0X1F""#), ("-0x1", #""-0x1""#), ("0o8", #""0o8""#), ("0x", #""0x""#),
        ("1_000", #""1_000""#), ("0b101", #""0b101""#), ("1:30", #""1:30""#),
        ("1.5", "1.5"), ("-.5", "-0.5"), ("+.5", "0.5"), ("1.", "1.0"), ("1e3", "1000.0"),
        ("1E-3", "0.001"), ("-0.0", "-0.0"), ("3.14", "3.14"), ("1e400", "inf"),
        (".inf", "inf"), ("+.Inf", "inf"), ("-.INF", "-inf"), (".nan", "nan"), (".NaN", "nan"),
        ("-.nan", #""-.nan""#), (".", #"".""#), ("+", #""+""#), ("1e", #""1e""#),
        ("1.2.3", #""1.2.3""#), ("2001-12-14", #""2001-12-14""#), ("1e+", #""1e+""#),
    ])
    func plainScalarsFollowTheCoreSchema(text: String, expected: String) throws {
        #expect(try value("v: \(text)") == expected)
    }

    @Test func quotedAndBlockScalarsAreAlwaysStrings() throws {
        #expect(try value("v: \"80\"") == #""80""#)
        #expect(try value("v: '80'") == #""80""#)
        #expect(try value("v: \"true\"") == #""true""#)
        #expect(try value("v: '~'") == #""~""#)
        #expect(try value("v: ''") == #""""#)
        #expect(try value("v: |\n  443\n") == #""443\n""#)
    }

    // MARK: - Quoted scalars

    @Test func singleQuotedScalars() throws {
        #expect(try value("v: 'it''s'") == #""it's""#)
        #expect(try value(#"v: 'a\b "c" #d'"#) == #""a\\b \"c\" #d""#)
        #expect(try value("v: 'multi  \n  line\n\n  folded'") == #""multi line\nfolded""#)
        #expect(try value("v: ''''") == #""'""#)
    }

    @Test func doubleQuotedEscapes() throws {
        #expect(try value(#"v: "a\nb\tc\"d\\e\/f""#) == #""a\nb\tc\"d\\e/f""#)
        #expect(try value(#"v: "\x41\u00e9\U0001F512""#) == "\"A\u{E9}\u{1F512}\"")
        #expect(
            try value(#"v: "\0\a\b\v\f\r\e\ \_\N\L\P""#)
                == "\"\\u{0}\\u{7}\\u{8}\\u{b}\\u{c}\\r\\u{1b} \u{A0}\\u{85}\u{2028}\u{2029}\"")
        #expect(try value("v: \"tab\\\tx\"") == #""tab\tx""#)
        // A UTF-16 surrogate pair, as JSON writes characters beyond U+FFFF.
        #expect(try value(#"v: "\ud83d\ude00 \uD83D\uDE00""#) == "\"\u{1F600} \u{1F600}\"")
    }

    @Test func doubleQuotedScalarsAcrossLines() throws {
        #expect(try value("v: \"folded  \n  line\n\n\n  two\"") == #""folded line\n\ntwo""#)
        #expect(try value("v: \"escaped \\\n    break\"") == #""escaped break""#)
        #expect(try value("v: \"no\\\n  space\"") == #""nospace""#)
        // Escaped white space before a line break is kept.
        #expect(try value("v: \"kept\\t\n  x\"") == #""kept\t x""#)
    }

    // MARK: - Block scalars

    @Test func literalBlockScalars() throws {
        #expect(
            try value("v: |\n  line one\n    indented\n\n  line three\n")
                == #""line one\n  indented\n\nline three\n""#)
        #expect(
            try value("v: |\n  # not a comment\n  x\n# a comment\n") == ##""# not a comment\nx\n""##
        )
        #expect(try value("v: | # a comment\n  x\n") == #""x\n""#)
        #expect(try value("v: |\n\n  after a blank line\n") == #""\nafter a blank line\n""#)
        #expect(try document("- |\n  a\n- |-\n  b\n") == #"["a\n", "b"]"#)
        #expect(try value("v: |\n  no final line break") == #""no final line break""#)
        #expect(try value("v: |\nw: 1") == #""""#)
    }

    @Test func chompingIndicators() throws {
        #expect(try value("v: |\n  x\n\n\nw: 1") == #""x\n""#)
        #expect(try value("v: |-\n  x\n\n\nw: 1") == #""x""#)
        #expect(try value("v: |+\n  x\n\n\nw: 1") == #""x\n\n\n""#)
        #expect(try value("v: >-\n  x\n  y\n") == #""x y""#)
        #expect(try value("v: >+\n  x\n\n") == #""x\n\n""#)
        #expect(try value("v: |+\n\n") == #""\n""#)
    }

    @Test func indentationIndicators() throws {
        #expect(try value("v: |2\n    two more\n  base\n") == #""  two more\nbase\n""#)
        #expect(try value("v: |-2\n   x\n") == #"" x""#)
        #expect(try value("v: |2-\n   x\n") == #"" x""#)
        #expect(try document("- |1\n  x\n") == #"[" x\n"]"#)
    }

    @Test func foldedBlockScalars() throws {
        #expect(
            try value("v: >\n  folded\n  text\n\n  next\n    more indented\n  back\n")
                == #""folded text\nnext\n  more indented\nback\n""#)
        #expect(try value("v: >\n  a\n\n\n  b\n") == #""a\n\nb\n""#)
    }

    @Test func blockScalarsAtTheTopOfADocument() throws {
        #expect(
            try documents("--- |\n  text\n--- >-\n  folded\n  text\n") == [
                #""text\n""#, #""folded text""#,
            ])
    }

    // MARK: - Comments

    @Test func comments() throws {
        #expect(
            try document(
                "# head\na: 1 # trailing\n# between\nb:   # before the value\n  c: 2\n  # deeper\n# shallower\nd: x#y\n"
            )
                == #"{"a": 1, "b": {"c": 2}, "d": "x#y"}"#)
        #expect(try value("v: 'a' # after a quoted scalar") == #""a""#)
        #expect(try value("v: [a, b] # after a flow collection") == #"["a", "b"]"#)
        #expect(try value("v:\n# at column 0 inside a mapping\n  x\n") == #""x""#)
    }

    // MARK: - Documents

    @Test func documentMarkers() throws {
        #expect(
            try documents("a: 1\n---\nb: 2\n...\n---\nc: 3\n") == [
                #"{"a": 1}"#, #"{"b": 2}"#, #"{"c": 3}"#,
            ])
        #expect(
            try documents("--- x\n--- [a]\n---   # comment\ny\n") == [#""x""#, #"["a"]"#, #""y""#])
        #expect(try documents("a: 1\n...\nb: 2\n") == [#"{"a": 1}"#, #"{"b": 2}"#])
        #expect(try documents("a: ---x\nb: ...\n") == [#"{"a": "---x", "b": "..."}"#])
    }

    @Test func emptyDocumentsAreSkippedButNullDocumentsKept() throws {
        #expect(try documents("").isEmpty)
        #expect(try documents("# only a comment\n\n").isEmpty)
        #expect(try documents("---\n---\n...\n").isEmpty)
        #expect(try documents("...\n").isEmpty)
        #expect(
            try documents("a: 1\n---\n# Source: empty.yaml\n---\nb: 2\n---\n") == [
                #"{"a": 1}"#, #"{"b": 2}"#,
            ])
        #expect(try documents("--- ~\n---\nnull\n--- ''\n") == ["null", "null", #""""#])
    }

    @Test func directives() throws {
        #expect(try documents("%YAML 1.2\n---\na: 1\n") == [#"{"a": 1}"#])
        #expect(try documents("%YAML 1.1 # old\n---\nyes: no\n") == [#"{"yes": "no"}"#])
        #expect(try documents("a: 1\n...\n%YAML 1.2\n---\nb: 2\n") == [#"{"a": 1}"#, #"{"b": 2}"#])
    }

    @Test func byteOrderMarkAndLineBreaks() throws {
        #expect(try document("\u{FEFF}a: 1\n") == #"{"a": 1}"#)
        #expect(
            try document("a: 1\r\nb:\r\n- x\r\nc: |\r\n  l1\r\n  l2\r\n")
                == #"{"a": 1, "b": ["x"], "c": "l1\nl2\n"}"#)
        #expect(try document("a: 1\rb: 'x\r  y'\r") == #"{"a": 1, "b": "x y"}"#)
        let lines = try YAMLReader.documents("a: 1\r\n\r\nb: 2\r\n")[0].mapping?.map(\.keyLine)
        #expect(lines == [1, 3])
    }

    // MARK: - Keys

    @Test func nonStringKeysAreTheirCanonicalText() throws {
        #expect(
            try document(
                "80: a\n0x51: b\ntrue: c\nFalse: d\n~: e\n1.5: f\n.inf: g\n-.inf: h\n.nan: i\n1e3: j\n"
            )
                == #"{"80": "a", "81": "b", "true": "c", "false": "d", "null": "e", "1.5": "f", ".inf": "g", "-.inf": "h", ".nan": "i", "1000.0": "j"}"#
        )
        #expect(try document("'quoted key': 1\n\"dq\": 2\n") == #"{"quoted key": 1, "dq": 2}"#)
        #expect(try value("v: {80: a, null: b}") == #"{"80": "a", "null": "b"}"#)
    }

    // MARK: - Lines

    @Test func valuesAndKeysKnowTheirLines() throws {
        let text = """
            # comment
            kind: NetworkPolicy
            spec:
              podSelector: {}
              ports:
              - port: 80

              - port: |
                  text
              empty:
            ---
            [a,
             b]
            """
        let documents = try YAMLReader.documents(text)
        let policy = documents[0]
        #expect(policy.line == 2)
        #expect(policy.mapping?.map(\.keyLine) == [2, 3])
        let spec = try #require(policy["spec"])
        #expect(spec.line == 4)
        #expect(spec["podSelector"]?.line == 4)
        let ports = try #require(spec["ports"]?.sequence)
        #expect(spec["ports"]?.line == 6)
        #expect(ports.map(\.line) == [6, 8])
        #expect(ports[1]["port"]?.line == 8)
        #expect(ports[1].mapping?.first?.keyLine == 8)
        #expect(spec["empty"]?.line == 10)
        #expect(spec["empty"]?.isNull == true)
        #expect(documents[1].line == 12)
        #expect(documents[1].sequence?.map(\.line) == [12, 13])
    }

    // MARK: - Accessors

    @Test func accessors() throws {
        let value = try #require(
            YAMLReader.documents("s: x\ni: 1\nb: true\nd: 1.5\nq: [1]\nm: {k: v}\nn: ~\n").first)
        #expect(value["s"]?.string == "x")
        #expect(value["i"]?.int == 1)
        #expect(value["i"]?.string == nil)
        #expect(value["i"]?.double == nil)
        #expect(value["b"]?.bool == true)
        #expect(value["d"]?.double == 1.5)
        #expect(value["q"]?.sequence?.first?.int == 1)
        #expect(value["m"]?.mapping?.first?.key == "k")
        #expect(value["m"]?["k"]?.string == "v")
        #expect(value["n"]?.isNull == true)
        #expect(value["s"]?.isNull == false)
        #expect(value["absent"] == nil)
        #expect(value["s"]?["x"] == nil)
        #expect(value.withoutLines.line == nil)
        #expect(value.withoutLines["m"]?.mapping?.first?.keyLine == nil)
        #expect(render(value.withoutLines) == render(value))
        #expect(value != value.withoutLines)
        #expect(YAMLValue(.int(1), line: 3) == YAMLValue(.int(1), line: 3))
        #expect(YAMLValue(.int(1), line: 3) != YAMLValue(.int(1), line: 4))
    }

    // MARK: - Refusals

    @Test(arguments: [
        // Anchors, aliases, tags, merge keys, complex keys.
        (
            "a: 1\nb: &ports\n  - 80\n",
            "line 2: anchors ('&ports') are not supported; write the value out"
        ),
        ("- &a x\n", "line 1: anchors ('&a') are not supported; write the value out"),
        ("&a a: 1\n", "line 1: anchors ('&a') are not supported; write the value out"),
        (
            "a: 1\nb:\n  - *ports\n",
            "line 3: aliases ('*ports') are not supported; write the value out"
        ),
        ("a: [x, *y]\n", "line 1: aliases ('*y') are not supported; write the value out"),
        (
            "a: !!str 80\n",
            "line 1: tags ('!!str') are not supported; remove the tag, and quote the value if it must be a string"
        ),
        (
            "a:\n  !foo x\n",
            "line 2: tags ('!foo') are not supported; remove the tag, and quote the value if it must be a string"
        ),
        (
            "a: 1\n!t b: 2\n",
            "line 2: tags ('!t') are not supported; remove the tag, and quote the value if it must be a string"
        ),
        (
            "{a: !t x}\n",
            "line 1: tags ('!t') are not supported; remove the tag, and quote the value if it must be a string"
        ),
        (
            "a:\n  <<: {b: 1}\n",
            "line 2: merge keys ('<<') are not supported; write the entries out"
        ),
        ("a: {<<: {b: 1}}\n", "line 1: merge keys ('<<') are not supported; write the entries out"),
        (
            "a: 1\n? b\n: 2\n",
            "line 2: complex keys ('? ') are not supported; write a plain or quoted key"
        ),
        (
            "a: {? b: 1}\n",
            "line 1: complex keys ('? ') are not supported; write a plain or quoted key"
        ),
        (
            "[a]: b\n",
            "line 1: a flow collection cannot be a mapping key; write a plain or quoted key"
        ),
        (
            "a: {[x]: 1}\n",
            "line 1: a flow collection cannot be a mapping key; write a plain or quoted key"
        ),
        // Directives.
        (
            "%TAG ! tag:example.com:\n---\na: 1\n",
            "line 1: tag directives ('%TAG') are not supported"
        ),
        ("%FOO bar\n---\n", "line 1: unknown directive '%FOO'"),
        (
            "%YAML 2.0\n---\n",
            "line 1: YAML version '2.0' is not supported; topogen reads YAML 1.2 (and 1.1)"
        ),
        ("%YAML 1.2\n%YAML 1.2\n---\n", "line 2: a document has more than one '%YAML' directive"),
        ("%YAML 1.2\na: 1\n", "line 1: a directive must be followed by '---'"),
        ("%YAML 1.2\n", "line 1: a directive must be followed by '---'"),
        (
            "a: 1\n%YAML 1.2\n---\n",
            "line 2: a directive ('%YAML') must come before '---', at the start of the stream or after '...'"
        ),
        // Tabs.
        ("a:\n\tb: 1\n", "line 2: tabs are not allowed for indentation"),
        ("a:\n  \tb: 1\n", "line 2: tabs are not allowed for indentation"),
        ("-\tx: 1\n", "line 1: tabs are not allowed for indentation"),
        ("a: x\n\ty\n", "line 2: tabs are not allowed for indentation"),
        // Duplicate keys.
        ("a: 1\nb: 2\na: 3\n", "line 3: duplicate key 'a' (first on line 1)"),
        ("{a: 1,\n a: 2}\n", "line 2: duplicate key 'a' (first on line 1)"),
        ("80: a\n\"80\": b\n", "line 2: duplicate key '80' (first on line 1)"),
        ("0x10: a\n16: b\n", "line 2: duplicate key '16' (first on line 1)"),
        // Indentation.
        (
            "a:\n    b: 1\n  c: 2\n",
            "line 3: bad indentation: expected a key at column 1, found 'c: 2' at column 3"
        ),
        (
            "a: 1\n  b: 2\n",
            "line 2: unexpected ': ' in a plain scalar that starts on line 1; quote a value that contains ': ', and check the indentation"
        ),
        (
            "- a: 1\n - b\n",
            "line 2: bad indentation: expected '- ' at column 1, found '- b' at column 2"
        ),
        (
            "- 'a'\n  b\n",
            "line 2: bad indentation: expected '- ' at column 1, found 'b' at column 3"
        ),
        (
            "a:\n  - x\n - y\n",
            "line 3: bad indentation: expected a key at column 1, found '- y' at column 2"
        ),
        (
            "  a: 1\nb: 2\n",
            "line 2: unexpected 'b: 2' after the end of the document's value; check its indentation"
        ),
        (
            "- a\nb: 1\n",
            "line 2: unexpected 'b: 1' after the end of the document's value; check its indentation"
        ),
        ("a: 1\n- b\n", "line 2: expected a 'key: value' entry of the mapping, found '- b'"),
        // Unterminated scalars and collections.
        ("a: 'x\n", "line 1: the single-quoted scalar that starts here is never closed"),
        ("a: \"x\\\"\n", "line 1: the double-quoted scalar that starts here is never closed"),
        (
            "a: \"x\n---\nb: 1\n",
            "line 1: the double-quoted scalar that starts here is never closed"
        ),
        (
            "a: \"x\nb: 1\n",
            "line 1: the double-quoted scalar that starts here is not closed before line 2, which is not indented enough to go on with it; add the missing '\"'"
        ),
        (
            "- 'x\n- y'\n",
            "line 1: the single-quoted scalar that starts here is not closed before line 2, which is not indented enough to go on with it; add the missing '''"
        ),
        (
            "a: [x, y\n",
            "line 1: the flow sequence that starts here is never closed; ']' is missing"
        ),
        (
            "a: {x: 1\n...\n",
            "line 1: the flow mapping that starts here is never closed; '}' is missing"
        ),
        (
            "a: [x,\nb: 1]\n",
            "line 1: the flow sequence that starts here is not closed before line 2, which is not indented enough to go on with it; add the missing ']'"
        ),
        (
            "a: {x: [1, 2}\n",
            "line 1: expected ',' or ']' in the flow sequence that starts on line 1, found '}'"
        ),
        // Keys and values.
        ("a: 1\nb\n", "line 2: 'b' has no ':'; expected a 'key: value' entry of the mapping"),
        (
            "a: 1\nb:2\n",
            "line 2: 'b:2' is not a 'key: value' entry of the mapping: a ':' must be followed by a space"
        ),
        ("a: 1\n'b'\n", "line 2: expected a 'key: value' entry of the mapping, found ''b''"),
        (": x\n", "line 1: a mapping entry has no key before its ':'"),
        ("\"multi\n  line\": 1\n", "line 1: a mapping key must be on one line"),
        (
            "a: b: c\n",
            "line 1: unexpected ': ' after 'b'; quote a value that contains ': ', and start a nested mapping on the next line"
        ),
        (
            "--- a: b\n",
            "line 1: unexpected ': ' after 'a'; quote a value that contains ': ', and start a nested mapping on the next line"
        ),
        (
            "a: - b\n",
            "line 1: a block sequence cannot start on the line of its key or of '---'; start '- b' on the next line"
        ),
        ("\"text\" more\n", "line 1: unexpected 'more' after the quoted scalar"),
        (
            "\"text\"\nmore\n",
            "line 2: unexpected 'more' after the end of the document's value; check its indentation"
        ),
        ("a: [x] y\n", "line 1: unexpected 'y' after the flow collection"),
        ("a: \"x\"#c\n", "line 1: a comment needs white space before its '#'"),
        ("a: [x,#c\n]\n", "line 1: a comment needs white space before its '#'"),
        ("a: [x, , y]\n", "line 1: a flow collection has an empty entry before ','"),
        ("a: [- x]\n", "line 1: block sequence entries ('- ') cannot be inside a flow collection"),
        ("a: [x, |]\n", "line 1: block scalars ('|', '>') cannot be inside a flow collection"),
        ("a: @x\n", "line 1: '@' cannot start a plain scalar; quote the value"),
        ("a: `x\n", "line 1: '`' cannot start a plain scalar; quote the value"),
        ("a: %x\n", "line 1: '%' cannot start a plain scalar; quote the value"),
        ("a: ,x\n", "line 1: unexpected ',x'; quote the value"),
        // Scalars.
        (
            "a: 99999999999999999999\n",
            "line 1: the integer '99999999999999999999' does not fit in 64 bits; quote it if it is a string"
        ),
        (
            "a: 0x10000000000000000\n",
            "line 1: the integer '0x10000000000000000' does not fit in 64 bits; quote it if it is a string"
        ),
        (
            "a: \"\\q\"\n",
            "line 1: unknown escape '\\q' in a double-quoted scalar; write '\\\\' for a backslash"
        ),
        ("a: \"\\x4\"\n", "line 1: the escape '\\x' needs 2 hexadecimal digits"),
        ("a: \"\\uD800\"\n", "line 1: the escape '\\uD800' is not a Unicode scalar value"),
        ("a: \"\\uD800\\u0041\"\n", "line 1: the escape '\\uD800' is not a Unicode scalar value"),
        ("a: \"\\uDE00\"\n", "line 1: the escape '\\uDE00' is not a Unicode scalar value"),
        ("a: |0\n  x\n", "line 1: the indentation indicator of a block scalar must be 1 to 9"),
        ("a: | x\n", "line 1: unexpected 'x' after the block scalar indicator '|'"),
        (
            "a: |\n     \n  x\n",
            "line 1: a blank line before the first line of this block scalar has more spaces than that line; remove them"
        ),
        (
            "a: 1\nb: \u{1}\n",
            "line 2: the character U+0001 is not allowed in YAML text; write it as an escape in a double-quoted scalar"
        ),
        (
            "a: \"x\u{2028}y\"\n",
            "line 1: the character U+2028 is not allowed in YAML text; write it as an escape in a double-quoted scalar"
        ),
        (
            "a: x\u{85}\n",
            "line 1: the character U+0085 is not allowed in YAML text; write it as an escape in a double-quoted scalar"
        ),
        (
            "a: \u{FFFE}\n",
            "line 1: the character U+FFFE is not allowed in YAML text; write it as an escape in a double-quoted scalar"
        ),
        ("...\nx\n... y\n", "line 3: unexpected 'y' after '...'"),
    ])
    func refusesWithTheLine(text: String, expected: String) {
        #expect(failure(text)?.description == expected, "\(text.debugDescription)")
    }

    @Test func errorsKnowTheirColumn() {
        #expect(failure("a:\n  \tb: 1\n")?.column == 3)
        #expect(failure("a: [x,\n  é, &y]\n")?.column == 6)
        #expect(failure("é: ü\nb: \"\\q\"\n")?.column == 5)
        #expect(failure("é: \u{1}")?.column == 4)
    }

    @Test func nestingIsLimited() throws {
        let depth = YAMLParser.maximumDepth
        let flow = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try YAMLReader.documents(flow).count == 1)
        let deeper = "[" + flow + "]"
        #expect(
            failure(deeper)?.description == "line 1: collections are nested deeper than 200 levels")
        let block = (0..<depth).map { String(repeating: " ", count: $0) + "k:" }.joined(
            separator: "\n")
        #expect(
            try YAMLReader.documents(block + "\n" + String(repeating: " ", count: depth) + "v")
                .count == 1)
        let blockSequences = (0..<depth + 1).map { String(repeating: " ", count: 2 * $0) + "-" }
        #expect(failure(blockSequences.joined(separator: "\n"))?.line == depth + 1)
    }

    // MARK: - What topogen writes

    /// Every string the writer's quoting tests use, and a few more, read back as written.
    @Test(arguments: [
        "on", "off", "yes", "no", "y", "n", "true", "False", "null", "~", "1983", "0x1F", "1e5",
        "12.5", "0o17", "1_000", "1983-01-01", "", " lead", "trail ", "a: b", "a #b", "#x", "-x",
        "::/0", "2001:db8::/32", "*alias", "&anchor", "!tag", "{x}", "[x]", "'q'", "\"q\"", "%x",
        "@x", "`x", "|", ">", "a\nb", "tab\there", ".inf", "-.inf", ".nan", "+1", "x:y",
        "spacelift", "kube-dns", "app.kubernetes.io/name", "10.0.0.0/8", "0.0.0.0/0",
        "networking.k8s.io/v1", "lb-server-http,worker-mqtt", "TCP", "a\u{1}b", "back\\slash",
        "---", "...", "- x", "? x", "x\r\ny", "é 😀",
    ])
    func readsBackWhatTheWriterWrites(text: String) throws {
        let rendered = YAMLNode.render(
            documents: [.map(["key": .string(text), "list": .list([.string(text), .int(-7)])])],
            header: ["a header"])
        let read = try YAMLReader.documents(rendered)
        #expect(read.count == 1)
        #expect(read.first?["key"]?.string == text, "\(rendered)")
        #expect(read.first?["list"]?.sequence?.map(\.kind) == [.string(text), .int(-7)])
    }
}
