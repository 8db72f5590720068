/// A party in a Spacelift installation's traffic: a component, a load balancer, or an external
/// service.
///
/// A node is a ``Role`` and a name. The reference installation has one node of each role, named
/// as the role (`server`, `object-storage`). A topology file adds nodes of its own: every worker
/// pool is a `worker` named `worker-<pool>` with an `infrastructure` named
/// `infrastructure-<pool>`, and every extra egress destination is an `extra` node with the name
/// the user gave.
///
/// The name is used on the command line and in every artifact, for example
/// `--cidr object-storage=52.216.0.0/15` or the security group `spacelift-worker-eu`.
public struct Node: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// What a node is in the installation.
    public enum Role: String, Hashable, Sendable, CaseIterable {
        /// The HTTP server (frontend, GraphQL API, webhooks) and the built-in MQTT broker.
        case server
        /// Asynchronous job processing.
        case drain
        /// Triggers cron jobs.
        case scheduler
        /// Executes runs and tasks; may live in another network. One per worker pool.
        case worker
        /// The optional VCS gateway, which remote VCS agents connect to.
        case vcsGateway = "vcs-gateway"
        /// The public endpoint in front of the server: HTTPS 443, and the MQTT port with the
        /// built-in broker.
        case lb
        /// The VCS gateway's load balancer: HTTPS 443 to the gateway's gRPC port.
        case vcsGatewayLB = "vcs-gateway-lb"
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
        /// APIs of whatever a worker pool manages. One per worker pool.
        case infrastructure
        /// AWS SQS, with `--with-sqs`.
        case sqs
        /// AWS IoT Core as the MQTT broker, with `--with-iot-core`.
        case iotCore = "iot-core"
        /// AWS KMS, with `--with-kms`.
        case kms
        /// Name resolution.
        case dns
        /// Administrators reaching the hosts over SSH (`--allow-ssh-from`); no address by
        /// default, so no SSH flow exists unless the user gives one.
        case admin
        /// The proxy every outbound HTTPS connection goes through, when the topology has one.
        case egressProxy = "egress-proxy"
        /// A destination the user declared as extra egress, with a reason.
        case extra

        /// What kind of party a node of this role is.
        public var kind: NodeKind {
            switch self {
            case .server, .drain, .scheduler, .worker, .vcsGateway: .component
            case .lb, .vcsGatewayLB: .edge
            case .clients, .postgres, .objectStorage, .vcs, .containerRegistry, .infrastructure,
                .sqs, .iotCore, .kms, .dns, .admin, .egressProxy, .extra:
                .external
            }
        }
    }

    /// What the node is.
    public let role: Role
    /// The name used on the command line and in artifacts, for example `worker-eu`.
    public let name: String

    /// Creates a node; without a name, the node is named as its role.
    public init(_ role: Role, name: String? = nil) {
        self.role = role
        self.name = name ?? role.rawValue
    }

    /// The node of the reference installation with this name, for example `object-storage`.
    public init?(rawValue: String) {
        guard let role = Role(rawValue: rawValue), role != .extra else { return nil }
        self.init(role)
    }

    /// The name, as ``init(rawValue:)`` reads it.
    public var rawValue: String { name }

    /// What kind of party the node is.
    public var kind: NodeKind { role.kind }

    /// The name used on the command line and in artifacts, for example `object-storage`.
    public var description: String { name }

    /// The order artifacts list nodes in: by role, then by name.
    public static func < (lhs: Node, rhs: Node) -> Bool {
        guard lhs.role != rhs.role else { return lhs.name < rhs.name }
        guard let left = Role.allCases.firstIndex(of: lhs.role),
            let right = Role.allCases.firstIndex(of: rhs.role)
        else { return false }
        return left < right
    }

    /// The one node of role ``Role/server``.
    public static let server = Node(.server)
    /// The one node of role ``Role/drain``.
    public static let drain = Node(.drain)
    /// The one node of role ``Role/scheduler``.
    public static let scheduler = Node(.scheduler)
    /// The workers of the reference installation's one pool.
    public static let worker = Node(.worker)
    /// The one node of role ``Role/vcsGateway``.
    public static let vcsGateway = Node(.vcsGateway)
    /// The one node of role ``Role/lb``.
    public static let lb = Node(.lb)
    /// The one node of role ``Role/vcsGatewayLB``.
    public static let vcsGatewayLB = Node(.vcsGatewayLB)
    /// The one node of role ``Role/clients``.
    public static let clients = Node(.clients)
    /// The one node of role ``Role/postgres``.
    public static let postgres = Node(.postgres)
    /// The one node of role ``Role/objectStorage``.
    public static let objectStorage = Node(.objectStorage)
    /// The one node of role ``Role/vcs``.
    public static let vcs = Node(.vcs)
    /// The one node of role ``Role/containerRegistry``.
    public static let containerRegistry = Node(.containerRegistry)
    /// The infrastructure of the reference installation's one worker pool.
    public static let infrastructure = Node(.infrastructure)
    /// The one node of role ``Role/sqs``.
    public static let sqs = Node(.sqs)
    /// The one node of role ``Role/iotCore``.
    public static let iotCore = Node(.iotCore)
    /// The one node of role ``Role/kms``.
    public static let kms = Node(.kms)
    /// The one node of role ``Role/dns``.
    public static let dns = Node(.dns)
    /// The one node of role ``Role/admin``.
    public static let admin = Node(.admin)
    /// The one node of role ``Role/egressProxy``.
    public static let egressProxy = Node(.egressProxy)

    /// Every node named as its role: the nodes a topology has without worker pools or extra
    /// egress, in artifact order.
    public static let allCases: [Node] = Role.allCases.filter { $0 != .extra }.map { Node($0) }

    /// The four Spacelift components of the reference installation, in the order of the
    /// networking reference.
    public static let components: [Node] = [.server, .drain, .scheduler, .worker]
}

/// The kinds of ``Node``.
public enum NodeKind: String, Hashable, Sendable {
    /// A Spacelift component: server, drain, scheduler, a worker pool, or the VCS gateway.
    case component
    /// A load balancer in front of a component.
    case edge
    /// A service outside Spacelift, known by its addresses.
    case external
}
