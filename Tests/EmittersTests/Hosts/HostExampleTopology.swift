import TestSupport
import TopologyModel

/// The topology of an example (`examples/NAME.args`), built with `TopologySpec` as the `topogen`
/// executable builds it from the same arguments: the test-only translation of the handful of
/// options the examples use.
enum HostExampleTopology {
    /// The example's topology.
    static func of(_ example: Example) throws -> Topology {
        try topology(example.arguments)
    }

    /// The topology of `topogen generate` arguments (without `--target`).
    static func topology(_ arguments: [String]) throws -> Topology {
        var spec = TopologySpec()
        var sshSources: [String] = []
        var cidrs: [(String, [String])] = []
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else {
                throw ExampleArgumentError(description: "'\(arguments[index - 1])' has no value")
            }
            return arguments[index]
        }
        while index < arguments.count {
            let option = arguments[index]
            switch option {
            case "--with-sqs": spec.withSQS = Written(true, at: option)
            case "--with-iot-core": spec.withIoTCore = Written(true, at: option)
            case "--with-kms": spec.withKMS = Written(true, at: option)
            case "--postgres-port": spec.postgresPort = Written(try value(), at: option)
            case "--mqtt-port": spec.mqttPort = Written(try value(), at: option)
            case "--infrastructure-port":
                spec.infrastructurePorts.append(Written(try value(), at: option))
            case "--workers": spec.workers = Written(try value(), at: option)
            case "--namespace": spec.namespace = Written(try value(), at: option)
            case "--worker-namespace": spec.workerNamespace = Written(try value(), at: option)
            case "--ingress-namespace": spec.ingressNamespace = Written(try value(), at: option)
            case "--vpc-id": spec.vpcID = Written(try value(), at: option)
            case "--name-prefix": spec.namePrefix = Written(try value(), at: option)
            case "--max-rules": spec.maxRules = Written(try value(), at: option)
            case "--prefix-list": spec.prefixLists.append(Written(try value(), at: option))
            case "--allow-ssh-from": sshSources.append(try value())
            case "--cidr":
                let text = try value()
                let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else {
                    throw ExampleArgumentError(description: "'--cidr \(text)' has no '='")
                }
                cidrs.append((parts[0], parts[1].split(separator: ",").map(String.init)))
            default:
                throw ExampleArgumentError(description: "unknown option '\(option)'")
            }
            index += 1
        }
        for text in sshSources {
            spec.addresses.append(
                AddressEntry(
                    node: "admin", cidrs: text.split(separator: ",").map(String.init),
                    origin: "--allow-ssh-from"))
        }
        for (node, list) in cidrs {
            spec.addresses.append(AddressEntry(node: node, cidrs: list, origin: "--cidr"))
        }
        return try spec.resolve().topology
    }
}

/// An example's arguments that the test translation does not know.
struct ExampleArgumentError: Error, CustomStringConvertible {
    var description: String
}
