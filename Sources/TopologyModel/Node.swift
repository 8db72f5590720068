/// A party in a Spacelift installation's traffic: a component, the load balancer in front of
/// the server, or an external service.
///
/// The raw value is the name used on the command line and in every artifact, for example
/// `--cidr object-storage=52.216.0.0/15`.
public enum Node: String, Hashable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// The HTTP server (frontend, GraphQL API, webhooks) and the built-in MQTT broker.
    case server
    /// Asynchronous job processing.
    case drain
    /// Triggers cron jobs.
    case scheduler
    /// Executes runs and tasks; may live in another network.
    case worker
    /// The public endpoint in front of the server: HTTPS 443, and the MQTT port with the
    /// built-in broker.
    case lb
    /// Users, VCS webhooks, API clients and integrations reaching the public endpoint.
    case clients
    /// The Postgres database.
    case postgres
    /// Object storage buckets (S3 or compatible).
    case objectStorage = "object-storage"
    /// The source control system.
    case vcs
    /// Registries of the backend, launcher and runner images.
    case containerRegistry = "container-registry"
    /// APIs of whatever the workers manage.
    case infrastructure
    /// AWS SQS, with `--with-sqs`.
    case sqs
    /// AWS IoT Core as the MQTT broker, with `--with-iot-core`.
    case iotCore = "iot-core"
    /// AWS KMS, with `--with-kms`.
    case kms
    /// Name resolution.
    case dns
    /// Administrators reaching the hosts over SSH (`--allow-ssh-from`); no address by default,
    /// so no SSH flow exists unless the user gives one.
    case admin

    /// What kind of party the node is.
    public var kind: NodeKind {
        switch self {
        case .server, .drain, .scheduler, .worker: .component
        case .lb: .edge
        case .clients, .postgres, .objectStorage, .vcs, .containerRegistry, .infrastructure, .sqs,
            .iotCore, .kms, .dns, .admin:
            .external
        }
    }

    /// The four Spacelift components, in the order of the networking reference.
    public static let components: [Node] = [.server, .drain, .scheduler, .worker]

    /// The name used on the command line and in artifacts, for example `object-storage`.
    public var description: String { rawValue }

    /// The order artifacts list values in.
    public static func < (lhs: Node, rhs: Node) -> Bool {
        guard let left = allCases.firstIndex(of: lhs), let right = allCases.firstIndex(of: rhs)
        else { return false }
        return left < right
    }
}

/// The kinds of ``Node``.
public enum NodeKind: String, Hashable, Sendable {
    /// A Spacelift component: server, drain, scheduler or worker.
    case component
    /// The load balancer in front of the server.
    case edge
    /// A service outside Spacelift, known by its addresses.
    case external
}
