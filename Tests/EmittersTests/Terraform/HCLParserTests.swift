import Foundation
import TestSupport
import Testing
import TopologyModel

@testable import Emitters

/// The HCL parser and evaluator on their own: syntax, errors with their lines, and values.
@Suite struct HCLParserTests {
    private func parse(_ text: String, file: String = "main.tf") throws(ReadError) -> HCLBody {
        try HCLParser.parse(InputText(name: file, contents: text))
    }

    /// Evaluates `expression` in a configuration of `declarations`.
    private func value(_ expression: String, _ declarations: String = "") throws -> HCLValue {
        let body = try parse(declarations + "\nresult = " + expression + "\n")
        let configuration = try HCLConfiguration(files: [("main.tf", body)])
        var evaluator = HCLEvaluator(configuration)
        let attribute = try #require(body.attribute("result"))
        return try evaluator.evaluate(attribute.expression, in: HCLScope(file: "main.tf"))
    }

    private func message(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.diagnostics.first?.message
        }
    }

    @Test func blocksLabelsAttributesAndLines() throws {
        let body = try parse(
            """
            # a comment
            // another
            /* a block
               comment */
            resource "aws_security_group" "server" {
              name = "spacelift-server"

              ingress {
                from_port = 443
                to_port   = 443
              }
              egress { protocol = "-1" }
            }
            locals { a = 1 }
            """)
        let resource = try #require(body.blocks.first)
        #expect(resource.type == "resource")
        #expect(resource.labels == ["aws_security_group", "server"])
        #expect(resource.line == 5)
        #expect(resource.body.attribute("name")?.line == 6)
        #expect(resource.body.blocks("ingress").first?.line == 8)
        #expect(resource.body.blocks("ingress").first?.body.attribute("to_port")?.line == 10)
        #expect(resource.body.blocks("egress").first?.line == 12)
        #expect(body.blocks("locals").first?.body.attribute("a")?.line == 14)
    }

    @Test func stringsEscapesAndTemplates() throws {
        #expect(try value(#""a\"b\\c\n\u00e9""#) == .string("a\"b\\c\né"))
        #expect(try value(#""$${literal} %%{x}""#) == .string("${literal} %{x}"))
        #expect(
            try value(#""${var.prefix}-server""#, #"variable "prefix" { default = "sl" }"#)
                == .string("sl-server"))
        #expect(try value(#""${1 + 2}""#) == .number(3), "a lone interpolation keeps its type")
        #expect(try value(#""a ${~ "b" ~} c""#) == .string("abc"))
        #expect(try value(#""port ${"${443}"}""#) == .string("port 443"))
        guard case .unknown(let unknown) = try value(#""%{ if true }x%{ endif }""#) else {
            Issue.record("a template directive is unknown")
            return
        }
        #expect(unknown.reason.contains("template directives"))
    }

    @Test func heredocs() throws {
        #expect(try value("<<EOF\nline one\n  ${2}\nEOF") == .string("line one\n  2\n"))
        #expect(try value("<<-EOT\n    a\n      b\n    EOT") == .string("a\n  b\n"))
        let body = try parse("a = <<EOF\nx\nEOF\nb = 2\n")
        #expect(body.attribute("b")?.line == 4)
    }

    @Test func numbersBoolsNullAndOperators() throws {
        #expect(try value("1 + 2 * 3") == .number(7))
        #expect(try value("(1 + 2) * 3") == .number(9))
        #expect(try value("-1") == .number(-1))
        #expect(try value("1.5e2") == .number(150))
        #expect(try value("10 % 4") == .number(2))
        #expect(try value("1 < 2 && !false") == .bool(true))
        #expect(try value("null == null") == .bool(true))
        #expect(try value("\"1\" == 1") == .bool(false))
        #expect(try value("\"8\" + 1") == .number(9))
        #expect(try value("true ? 1 : 2") == .number(1))
        #expect(try value("1 > 2 || 2 >= 2 ? \"a\" : \"b\"") == .string("a"))
    }

    @Test func tuplesAndObjectsAcrossLines() throws {
        #expect(try value("[1,\n 2,\n]") == .list([.number(1), .number(2)]))
        #expect(
            try value("{\n a = 1\n \"b-c\" : 2, d = [3]\n (\"e\") = 4\n}")
                == .object([
                    "a": .number(1), "b-c": .number(2), "d": .list([.number(3)]),
                    "e": .number(4),
                ]))
        #expect(try value("{ a = { b = [1, { c = 2 }] } }.a.b[1].c") == .number(2))
        #expect(try value("[10, 20, 30].1") == .number(20))
    }

    @Test func forExpressionsAndSplats() throws {
        #expect(
            try value("[for x in [1, 2, 3] : x * 2 if x != 2]") == .list([.number(2), .number(6)]))
        #expect(
            try value("{ for k, v in { a = 1, b = 2 } : v => k }")
                == .object(["1": .string("a"), "2": .string("b")]))
        #expect(
            try value("{ for x in [\"a\", \"b\", \"a\"] : x => 1... }")
                == .object(["a": .list([.number(1), .number(1)]), "b": .list([.number(1)])]))
        #expect(
            try value("[for i, x in [\"a\", \"b\"] : \"${i}${x}\"]")
                == .list([.string("0a"), .string("1b")]))
        #expect(try value("[{ a = 1 }, { a = 2 }][*].a") == .list([.number(1), .number(2)]))
        #expect(
            try value("[{ a = [1] }, { a = [2] }].*.a")
                == .list([.list([.number(1)]), .list([.number(2)])]))
        #expect(try value("{\n for x in [1] :\n x => x\n}") == .object(["1": .number(1)]))
    }

    @Test func functions() throws {
        #expect(try value("concat([1], [2, 3])") == .list([.number(1), .number(2), .number(3)]))
        #expect(
            try value("merge({ a = 1, b = 1 }, { b = 2 })")
                == .object(["a": .number(1), "b": .number(2)]))
        #expect(
            try value("flatten([[1], [[2]], 3])") == .list([.number(1), .number(2), .number(3)]))
        #expect(try value("toset([\"b\", \"a\", \"b\"])") == .list([.string("a"), .string("b")]))
        #expect(try value("lookup({ a = 1 }, \"b\", 5)") == .number(5))
        #expect(try value("format(\"%s-%d\", \"x\", 3)") == .string("x-3"))
        #expect(
            try value("jsonencode({ b = [1, \"x\"], a = null })")
                == .string(#"{"a":null,"b":[1,"x"]}"#))
        #expect(try value("coalesce(null, \"\", \"x\")") == .string("x"))
        #expect(try value("try(null[0], \"fallback\")") == .string("fallback"))
        #expect(try value("can(cidrnetmask(\"::/0\"))") == .bool(false))
        #expect(try value("cidrnetmask(\"10.0.0.0/12\")") == .string("255.240.0.0"))
        #expect(try value("cidrsubnet(\"10.0.0.0/16\", 8, 2)") == .string("10.0.2.0/24"))
        #expect(try value("cidrsubnet(\"2600:1f18::/56\", 8, 1)") == .string("2600:1f18:0:1::/64"))
        #expect(try value("cidrhost(\"10.0.0.0/24\", 5)") == .string("10.0.0.5"))
        #expect(try value("join(\",\", split(\"/\", \"a/b\"))") == .string("a,b"))
        #expect(try value("length(distinct([1, 1, 2]))") == .number(2))
        #expect(try value("max([1, 5, 2]...)") == .number(5))
        guard case .unknown(let unknown) = try value("regex(\"x\", \"y\")") else {
            Issue.record("an unknown function gives an unknown value")
            return
        }
        #expect(unknown.reason == "'regex(...)' is not evaluated by topogen")
    }

    @Test func unknownValuesSayWhy() throws {
        guard case .unknown(let noDefault) = try value("var.ports", #"variable "ports" {}"#) else {
            Issue.record("a variable without default is unknown")
            return
        }
        #expect(noDefault.reason == "'var.ports' has no default")
        #expect(noDefault.location == SourceLocation(file: "main.tf", line: 1))
        guard case .unknown(let data) = try value("data.aws_vpc.main.cidr_block") else {
            Issue.record("a data source is unknown")
            return
        }
        #expect(data.reason == "'data.aws_vpc.main' is read from the provider at plan time")
        guard case .unknown(let module) = try value("module.vpc.cidr") else {
            Issue.record("a module output is unknown")
            return
        }
        #expect(module.reason.contains("'module.vpc.cidr'"))
        #expect(
            try value("merge({ a = 1 }, { b = var.x }).a", #"variable "x" {}"#) == .number(1),
            "an unknown field leaves the others known")
    }

    @Test func referencesBetweenResources() throws {
        let declarations = """
            resource "aws_security_group" "lb" { name = "spacelift-lb" }
            resource "aws_security_group" "this" {
              for_each = toset(["server", "drain"])
              name     = "x-${each.key}"
            }
            """
        #expect(
            try value("aws_security_group.lb.id", declarations)
                == .reference(
                    HCLReference(
                        address: HCLResourceAddress(type: "aws_security_group", name: "lb"),
                        attribute: "id")))
        #expect(try value("aws_security_group.lb.name", declarations) == .string("spacelift-lb"))
        #expect(
            try value("aws_security_group.this[\"drain\"].name", declarations) == .string("x-drain")
        )
        #expect(
            try value("try(aws_security_group.this[null].id, null)", declarations) == .null)
        #expect(
            try value("[for g in aws_security_group.this : g.name]", declarations)
                == .list([.string("x-drain"), .string("x-server")]))
    }

    @Test func realWorldShapes() throws {
        let body = try parse(
            "resource \"aws_security_group\" \"empty\" {}\r\n"
                + "locals {\r\n\ta = 1 # trailing\r\n  b = 2 // trailing\r\n"
                + "  c = merge(\n    { x = 1 },\n    {\n      y = (true\n        ? 2\n      : 3)\n    },\n  )\n"
                + "  d = \"caf\u{e9} \u{1F680}\"\n  e = [\n    # a comment in a list\n    1, /* inline */ 2\n  ]\n}\n"
        )
        #expect(body.blocks.first?.body.attributes.isEmpty == true)
        let configuration = try HCLConfiguration(files: [("main.tf", body)])
        var evaluator = HCLEvaluator(configuration)
        func local(_ name: String) throws -> HCLValue {
            try evaluator.local(name, line: 1, file: "main.tf")
        }
        #expect(try local("a") == .number(1))
        #expect(try local("b") == .number(2))
        #expect(try local("c") == .object(["x": .number(1), "y": .number(2)]))
        #expect(try local("d") == .string("caf\u{e9} \u{1F680}"))
        #expect(try local("e") == .list([.number(1), .number(2)]))
        #expect(configuration.locals["e"]?.value.line == 14)
    }

    @Test func syntaxErrorsNameTheirLine() {
        #expect(
            message("a = 1\nb = [1,\n")
                == "main.tf:3: expected an expression, found the end of the file")
        #expect(
            message("a = \"open\nb = 1") == "main.tf:1: the string is not closed: a '\"' is missing"
        )
        #expect(
            message("resource \"x\" \"y\" {\n  a = 1\n")
                == "main.tf:3: a block is not closed: expected '}', found the end of the file")
        #expect(message("a = 1 2\n") == "main.tf:1: unexpected '2' after the value of 'a'")
        #expect(
            message("a = 1\na = 2\n")
                == "main.tf:2: the attribute 'a' is set twice (first at line 1)")
        #expect(
            message("x = <<EOF\nno end\n")
                == "main.tf:1: the heredoc '<<EOF' is not closed: no line 'EOF'")
        #expect(message("/* open\n\n") == "main.tf:1: the comment '/*' is not closed")
        #expect(message("a = 1 @ 2") == "main.tf:1: unexpected character '@'")
        #expect(
            message("block \"x\" y = 1")
                == "main.tf:1: expected '=' or a block after 'block', found '='")
        #expect(
            message("a = { b = 1 c = 2 }")
                == "main.tf:1: expected ',', a new line or '}' in an object, found 'c'")
        #expect(message("a = \"\\q\"") == "main.tf:1: the escape '\\q' is not valid in a string")
    }

    @Test func everyGoldenModuleParses() throws {
        for example in Example.all {
            for file in ["versions.tf", "variables.tf", "main.tf", "outputs.tf"] {
                let url = example.golden("terraform", file)
                let text = try String(contentsOf: url, encoding: .utf8)
                #expect(throws: Never.self, "\(example.name)/\(file)") {
                    try HCLParser.parse(InputText(name: file, contents: text))
                }
            }
        }
    }
}
