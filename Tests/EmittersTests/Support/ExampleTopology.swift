import Emitters
import Foundation
import TestSupport
import TopologyModel

/// The topology of an example (`examples/NAME.args`), for the tests of every reader that read
/// its goldens back: the model options the examples use, translated into a ``TopologySpec`` as
/// the CLI does.
///
/// For example: `["--with-sqs", "--cidr", "postgres=10.0.0.0/16"]` sets `withSQS` and one
/// address entry.
enum ExampleTopology {
    /// Why arguments cannot be translated.
    struct Unsupported: Error, CustomStringConvertible {
        /// The option or problem.
        var description: String
    }

    /// The spec of some `topogen generate` arguments.
    static func spec(_ arguments: [String]) throws -> TopologySpec {
        var spec = TopologySpec()
        var index = 0
        func value(_ option: String) throws -> String {
            index += 1
            guard index < arguments.count else {
                throw Unsupported(description: "\(option) needs a value")
            }
            return arguments[index]
        }
        func entry(_ text: String, _ origin: String) throws -> AddressEntry {
            guard let equals = text.firstIndex(of: "=") else {
                throw Unsupported(description: "\(origin) \(text)")
            }
            return AddressEntry(
                node: String(text[..<equals]),
                cidrs: text[text.index(after: equals)...].split(separator: ",").map(String.init),
                origin: origin)
        }
        var file: TopologySpec?
        while index < arguments.count {
            let option = arguments[index]
            switch option {
            case "--topology":
                let text = try String(contentsOfFile: try value(option), encoding: .utf8)
                file = try TopologyFile.decode(text)
            case "--with-sqs": spec.withSQS = Written(true, at: option)
            case "--with-iot-core": spec.withIoTCore = Written(true, at: option)
            case "--with-kms": spec.withKMS = Written(true, at: option)
            case "--postgres-port": spec.postgresPort = Written(try value(option), at: option)
            case "--mqtt-port": spec.mqttPort = Written(try value(option), at: option)
            case "--infrastructure-port":
                spec.infrastructurePorts.append(Written(try value(option), at: option))
            case "--workers": spec.workers = Written(try value(option), at: option)
            case "--namespace": spec.namespace = Written(try value(option), at: option)
            case "--worker-namespace": spec.workerNamespace = Written(try value(option), at: option)
            case "--ingress-namespace":
                spec.ingressNamespace = Written(try value(option), at: option)
            case "--vpc-id": spec.vpcID = Written(try value(option), at: option)
            case "--name-prefix": spec.namePrefix = Written(try value(option), at: option)
            case "--max-rules": spec.maxRules = Written(try value(option), at: option)
            case "--prefix-list": spec.prefixLists.append(Written(try value(option), at: option))
            case "--cidr": spec.addresses.append(try entry(try value(option), option))
            case "--allow-ssh-from":
                spec.addresses.append(
                    AddressEntry(
                        node: Node.admin.rawValue,
                        cidrs: try value(option).split(separator: ",").map(String.init),
                        origin: option))
            default: throw Unsupported(description: "option '\(option)' is not translated")
            }
            index += 1
        }
        return file.map { $0.overridden(by: spec) } ?? spec
    }

    /// The topology of some arguments.
    static func topology(_ arguments: [String]) throws -> Topology {
        try spec(arguments).resolve().topology
    }

    /// The topology of an example.
    static func topology(of example: Example) throws -> Topology {
        try topology(example.arguments)
    }

    /// The topology of the example topology file `examples/NAME.yaml`, as `topogen --topology`
    /// resolves it: the one source of the example shapes every target's tests use.
    static func file(_ name: String) throws -> Topology {
        try topology([
            "--topology", Repository.examples.appendingPathComponent("\(name).yaml").path,
        ])
    }

    /// ``file(_:)`` for fixtures that must be values; a file that does not resolve is the
    /// reference installation here, and a failure of `TopologyFileTests`.
    static func fileOrReference(_ name: String) -> Topology {
        (try? file(name)) ?? .reference
    }
}
