import TopologyModel

/// Something declared in one of a configuration's files.
struct HCLDeclared<Value: Hashable & Sendable>: Hashable, Sendable {
    /// What is declared.
    var value: Value
    /// The file, as the user named it.
    var file: String

    /// Where it is declared, at `line`.
    func location(_ line: Int) -> SourceLocation { SourceLocation(file: file, line: line) }
}

/// The declarations of one Terraform module, gathered from all its `.tf` files: variables,
/// locals, resources, data sources and module calls.
///
/// For example: `variables.tf` with `variable "ports" {}` and `main.tf` with
/// `resource "aws_security_group" "server" {}` give one variable and one resource, each with
/// its file.
struct HCLConfiguration: Hashable, Sendable {
    /// The variables, by name.
    var variables: [String: HCLDeclared<HCLBlock>] = [:]
    /// The locals, by name.
    var locals: [String: HCLDeclared<HCLAttribute>] = [:]
    /// The managed resources, by type, then name.
    var resources: [String: [String: HCLDeclared<HCLBlock>]] = [:]
    /// The data sources, by type, then name.
    var dataSources: [String: [String: HCLDeclared<HCLBlock>]] = [:]
    /// The module calls, by name.
    var modules: [String: HCLDeclared<HCLBlock>] = [:]

    /// Gathers the declarations of parsed files.
    ///
    /// - Throws: ``ReadError`` for a name declared twice, as Terraform refuses it.
    init(files: [(name: String, body: HCLBody)]) throws(ReadError) {
        for (file, body) in files {
            for block in body.blocks {
                let here = SourceLocation(file: file, line: block.line)
                func twice(_ what: String, _ first: SourceLocation) -> ReadError {
                    ReadError(here, "\(what) is declared twice (first at \(first))")
                }
                switch (block.type, block.labels.count) {
                case ("variable", 1):
                    let name = block.labels[0]
                    if let first = variables[name] {
                        throw twice("the variable '\(name)'", first.location(first.value.line))
                    }
                    variables[name] = HCLDeclared(value: block, file: file)
                case ("locals", 0):
                    for attribute in block.body.attributes {
                        if let first = locals[attribute.name] {
                            throw twice(
                                "the local '\(attribute.name)'", first.location(first.value.line))
                        }
                        locals[attribute.name] = HCLDeclared(value: attribute, file: file)
                    }
                case ("resource", 2), ("data", 2):
                    let (type, name) = (block.labels[0], block.labels[1])
                    let isData = block.type == "data"
                    if let first = (isData ? dataSources : resources)[type]?[name] {
                        throw twice(
                            "'\(isData ? "data." : "")\(type).\(name)'",
                            first.location(first.value.line))
                    }
                    if isData {
                        dataSources[type, default: [:]][name] = HCLDeclared(
                            value: block, file: file)
                    } else {
                        resources[type, default: [:]][name] = HCLDeclared(value: block, file: file)
                    }
                case ("module", 1):
                    let name = block.labels[0]
                    if let first = modules[name] {
                        throw twice("the module '\(name)'", first.location(first.value.line))
                    }
                    modules[name] = HCLDeclared(value: block, file: file)
                case ("variable", _), ("resource", _), ("data", _), ("module", _), ("locals", _):
                    throw ReadError(
                        here,
                        "a '\(block.type)' block takes \(["resource": 2, "data": 2, "locals": 0][block.type] ?? 1) labels, not \(block.labels.count)"
                    )
                default:
                    break
                }
            }
        }
    }

    /// The resources of one type, sorted by name.
    func resources(of type: String) -> [(name: String, declared: HCLDeclared<HCLBlock>)] {
        (resources[type] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
