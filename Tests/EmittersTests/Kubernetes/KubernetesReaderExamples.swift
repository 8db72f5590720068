import TestSupport
import TopologyModel

/// The topology of an example (`examples/NAME.args`), for the Kubernetes reader's tests: a small
/// translation of the options the examples use into a ``TopologySpec``, as the command line
/// would build it.
///
/// For example: `--with-sqs --cidr postgres=10.20.0.0/16` sets `withSQS` and one address entry.
enum KubernetesReaderExamples {
    /// Why an example's arguments cannot be translated.
    struct Unsupported: Error, CustomStringConvertible {
        /// The offending argument.
        var description: String
    }

    /// The spec of some arguments.
    static func spec(_ arguments: [String]) throws -> TopologySpec {
        var spec = TopologySpec()
        var remaining = arguments[...]
        func value(_ option: String) throws -> Written<String> {
            guard let next = remaining.popFirst() else { throw Unsupported(description: option) }
            return Written(next, at: option)
        }
        while let option = remaining.popFirst() {
            switch option {
            case "--with-sqs": spec.withSQS = Written(true, at: option)
            case "--with-iot-core": spec.withIoTCore = Written(true, at: option)
            case "--with-kms": spec.withKMS = Written(true, at: option)
            case "--postgres-port": spec.postgresPort = try value(option)
            case "--mqtt-port": spec.mqttPort = try value(option)
            case "--infrastructure-port": spec.infrastructurePorts.append(try value(option))
            case "--workers": spec.workers = try value(option)
            case "--namespace": spec.namespace = try value(option)
            case "--worker-namespace": spec.workerNamespace = try value(option)
            case "--ingress-namespace": spec.ingressNamespace = try value(option)
            case "--vpc-id": spec.vpcID = try value(option)
            case "--name-prefix": spec.namePrefix = try value(option)
            case "--max-rules": spec.maxRules = try value(option)
            case "--prefix-list": spec.prefixLists.append(try value(option))
            case "--cidr":
                let written = try value(option).value
                let parts = written.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw Unsupported(description: written) }
                spec.addresses.append(
                    AddressEntry(
                        node: parts[0], cidrs: parts[1].split(separator: ",").map(String.init),
                        origin: option))
            case "--allow-ssh-from":
                spec.addresses.append(
                    AddressEntry(
                        node: "admin",
                        cidrs: try value(option).value.split(separator: ",").map(String.init),
                        origin: option))
            default: throw Unsupported(description: option)
            }
        }
        return spec
    }

    /// The topology of an example.
    static func topology(_ example: Example) throws -> Topology {
        try spec(example.arguments).resolve().topology
    }

    /// The topology of some arguments.
    static func topology(_ arguments: [String]) throws -> Topology {
        try spec(arguments).resolve().topology
    }
}
