#!/usr/bin/env python3
"""Independent oracle for topogen's Kubernetes NetworkPolicies, judged by the real engine NCA.

    .venv/bin/python3 Tests/Checkers/k8s_oracle.py --policies FILE (--args-file F | --args "...")
                      [--nca PATH] [-q] [-v]

It parses the topogen arguments itself (own argparse; unknown options are a usage error, so the
two parsers cannot drift apart), writes a cluster fixture, and runs network-config-analyzer
2.1.0 ONCE with a scheme of three connectivity maps (txt_no_fw_rules, IPv6 included):
  combined            the file as given;
  ingress rules alone the file with every egress part removed;
  egress rules alone  the file with every ingress part removed.
Each map is compared with the connectivity that spec/flows.md implies (written here
independently): combined = source egress AND destination ingress; each side view catches a
wrong rule that the other side happens to hide (e.g. an MQTT ingress left open with IoT Core).
Exit 0: as expected; 1: mismatches (listed); 2: usage error, bad input, NCA failure or output
that does not parse (never passes silently).

NCA facts relied on (NCA 2.1.0 source and experiments):
- IPv6 is modelled fully but hidden unless a policy names an IPv6 CIDR; the oracle turns it on
  (excludeIPv6Range: false, i.e. --print_ipv6) and compares IPv4 and IPv6.
- Pods have no IPs in NCA: an ipBlock (even 0.0.0.0/0) never matches a pod, a pod selector never
  matches an address. The oracle follows that: address nodes (postgres, clients, ...) match
  address ranges only, so with --workers external the unpoliced worker pods do not reach the
  server's MQTT port via the `clients` ipBlock (expected: deny). Real CNIs often do apply
  ipBlocks to pod IPs; Kubernetes leaves that implementation-defined.
- A txt_no_fw_rules line is one (source, destination, hypercube): a pair may span several lines
  (unioned here); address ranges (`a-b`) may overlap across lines, so NCA's and our ranges are cut
  into one partition ("atoms"). Connection sets read `All connections`, `{protocols:TCP,
  UDP,dst_ports:53}` (several joined by `,`) or `All but {...}`; protocols `*` or `all but X, Y`.
- On an unparsable policy YAML NCA exits 0 as if the file were empty, so the oracle parses the
  YAML itself first. Invalid values (protocol `tcp`, port 0) make NCA exit 7.
- NCA adds "-livesim" pods when a policy selects a kube-dns or ingress controller the cluster
  lacks; they are kept as unlabelled foreign pods. Self-loops are not reported.

Fixture: backend namespace (server-0, drain-0, scheduler-0, vcs-gateway-0 with a VCS gateway,
misc-0), each in-cluster pool's namespace (two pods per pool, `worker-0` and `worker-1` for the
flags' one pool, so that worker-to-worker isolation is tested too; `idle-0` where every pool has
labels, which only the namespace's default deny covers), kube-system (kube-dns-0, kube-proxy-0),
the ingress namespace (ingress-controller-0; `ingress-nginx` by default), `other` (other-0), and a
pod of every external node living in the cluster (`NODE-0`, beside a `bystander-0` of its
namespace that its selector must not select).
"Ours" = pods of the backend namespace and of the in-cluster pools' namespaces.
Every (source, destination) with at least one end ours is compared; foreign pods and addresses
have no policies, so their side allows everything.

Topology files (`--topology FILE`, or a `.yaml`/`.json` args file): the oracle reads the fields of
docs/topology-file.md itself (options, ports, kubernetes, nodes, workerPools, vcsGateway,
egressProxy, privateEndpoints, extraEgress) and expects, beside the flows above: one policy per
in-cluster pool over its pods; the VCS gateway's gRPC port from the ingress controller's pods (else
its load balancer's addresses, else anywhere) and its HTTP port from server and drain pods, its
postgres and DNS egress, the server's and drain's egress to its HTTP port; the MQTT port also from
the addresses of external pools that have some; nodes living in the cluster reached as their pods
(and addresses, if given); a component's connection on exactly 443/tcp to an external node that
is not a private endpoint going to the egress proxy on its port; extra egress on its ports.
"""
import argparse
import functools
import ipaddress
import operator
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from types import SimpleNamespace

import yaml

NAME = 'app.kubernetes.io/name'
NODES = ('server drain scheduler worker lb clients postgres object-storage vcs container-registry '
         'infrastructure sqs iot-core kms dns').split()
HTTP_PORT = 1983
MAXIP = {4: 2 ** 32 - 1, 6: 2 ** 128 - 1}
ANY = ((4, 0, MAXIP[4]), (6, 0, MAXIP[6]))   # default address of every node, clients included
VIEWS = (('combined', None), ('ingress rules alone', 'Ingress'), ('egress rules alone', 'Egress'))


class Usage(Exception):
    """Exit 2: bad arguments, bad input, NCA failure or unparsable NCA output."""


# ---------------------------------------------------------------- connection sets
# Exact boolean algebra: port intervals for TCP, UDP, SCTP (the protocols that have ports in a
# NetworkPolicy) and the other protocols as a finite or co-finite set of names.
PORT_PROTOS = ('TCP', 'UDP', 'SCTP')
FULL_PORTS = ((1, 65535),)


def norm(ivs):
    out = []
    for lo, hi in sorted(ivs):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def iv_complement(ivs):
    out, nxt = [], 1
    for lo, hi in ivs:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    return tuple(out + ([(nxt, 65535)] if nxt <= 65535 else []))


class Conns:
    __slots__ = ('ports', 'other')

    def __init__(self, ports=((), (), ()), other=(False, frozenset())):
        self.ports = tuple(norm(p) for p in ports)                          # per PORT_PROTOS
        self.other = (other[0], frozenset(other[1]) - set(PORT_PROTOS))   # (co-finite?, names)

    def __or__(self, o):
        (c1, n1), (c2, n2) = self.other, o.other
        other = ((False, n1 | n2) if not (c1 or c2) else (True, n1 & n2) if c1 and c2
                 else (True, n2 - n1) if c2 else (True, n1 - n2))
        return Conns([a + b for a, b in zip(self.ports, o.ports)], other)

    def __invert__(self):
        return Conns([iv_complement(p) for p in self.ports], (not self.other[0], self.other[1]))

    def __and__(self, o):
        return ~(~self | ~o)

    def __bool__(self):
        return any(self.ports) or self.other[0] or bool(self.other[1])

    def __eq__(self, o):
        return self.ports == o.ports and self.other == o.other

    def __str__(self):
        if all(p == FULL_PORTS for p in self.ports) and self.other == (True, frozenset()):
            return 'all protocols and ports'
        parts = [f'{p} ' + ','.join(str(lo) if lo == hi else f'{lo}-{hi}' for lo, hi in ivs)
                 for p, ivs in zip(PORT_PROTOS, self.ports) if ivs]
        c, names = self.other
        if c:
            parts.append('all other protocols' + (' except ' + ','.join(sorted(names)) if names else ''))
        elif names:
            parts.append('protocols ' + ','.join(sorted(names)))
        return '; '.join(parts) or 'nothing'


NONE = Conns()
ALL = ~NONE


def conns(proto, *ports):
    """One protocol; ports given as ints or (lo, hi) tuples."""
    ivs = [p if isinstance(p, tuple) else (p, p) for p in ports]
    return Conns([ivs if p == proto else () for p in PORT_PROTOS])


DNS = conns('UDP', 53) | conns('TCP', 53)


# ---------------------------------------------------------------- NCA output parsing
def parse_cube(body):
    keys = list(re.finditer(r'(?:^|,)([a-z_]+):', body))
    if body and (not keys or keys[0].start() != 0):
        raise Usage(f'cannot parse NCA connection {{{body}}}')
    fields = {m[1]: body[m.end():(keys[i + 1].start() if i + 1 < len(keys) else len(body))]
              for i, m in enumerate(keys)}
    if set(fields) - {'protocols', 'dst_ports'}:
        raise Usage(f'unexpected NCA dimension in {{{body}}} (only protocols and dst_ports are modelled)')
    v = fields.get('protocols', '*')
    compl = v == '*' or v.startswith('all but ')
    names = frozenset(x for x in ('' if v == '*' else v[8:] if v.startswith('all but ') else v).split(', ') if x)
    if not all(re.fullmatch(r'[A-Za-z0-9]+', n) for n in names) or not (compl or names):
        raise Usage(f'cannot parse NCA protocols {v!r}')
    ports = FULL_PORTS
    if 'dst_ports' in fields:
        ms = [re.fullmatch(r'(\d+)(?:-(\d+))?', t) for t in fields['dst_ports'].split(',')]
        if not all(ms):
            raise Usage(f'cannot parse NCA ports {fields["dst_ports"]!r}')
        ports = [(int(m[1]), int(m[2] or m[1])) for m in ms]
    # Other protocols have no ports in a NetworkPolicy; should a port-restricted cube ever name
    # one, it counts as allowed (any non-TCP/UDP allowance is a mismatch for topogen anyway).
    return Conns([ports if (p in names) != compl else () for p in PORT_PROTOS], (compl, names))


def parse_conns(s):
    if s == 'All connections':
        return ALL
    neg = s.startswith('All but ')
    body = s[8:] if neg else s
    if not re.fullmatch(r'\{[^{}]*\}(?:,\{[^{}]*\})*', body):
        raise Usage(f'cannot parse NCA connection set {s!r}')
    res = functools.reduce(operator.or_, map(parse_cube, re.findall(r'\{([^{}]*)\}', body)), NONE)
    return ~res if neg else res


def parse_ip_token(tok):
    """NCA address token (`a-b`, `a`, `a/n`, comma-separated) -> [(version, lo, hi)], or None."""
    out = []
    for part in tok.split(','):
        try:
            if '/' in part:
                n = ipaddress.ip_network(part, strict=False)
                out.append((n.version, int(n.network_address), int(n.broadcast_address)))
                continue
            lo, _, hi = part.partition('-')
            x, y = ipaddress.ip_address(lo), ipaddress.ip_address(hi or lo)
        except ValueError:
            return None
        if x.version != y.version or x > y:
            return None
        out.append((x.version, int(x), int(y)))
    return out


# ---------------------------------------------------------------- topogen arguments
def port_range(s):
    m = re.fullmatch(r'(\d+)(?:-(\d+))?', s)
    lo, hi = (int(m[1]), int(m[2] or m[1])) if m else (0, 0)
    if not 1 <= lo <= hi <= 65535:
        raise argparse.ArgumentTypeError(f'invalid port or range {s!r}')
    return lo, hi


def port(s):
    lo, hi = port_range(s)
    if lo != hi:
        raise argparse.ArgumentTypeError(f'expected a single port, not {s!r}')
    return lo


def cidr_arg(s):
    node, sep, lst = s.partition('=')
    if not sep or node not in NODES or not lst:
        raise argparse.ArgumentTypeError(f'expected NODE=CIDR[,CIDR...], NODE one of {", ".join(NODES)}: {s!r}')
    try:
        nets = [ipaddress.ip_network(c, strict=False) for c in lst.split(',')]
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))
    return node, [(n.version, int(n.network_address), int(n.broadcast_address)) for n in nets]


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(f'topogen args: {message}')


def parse_topogen_args(argv):
    p = Parser(prog='topogen generate --target k8s', add_help=False, allow_abbrev=False)
    for flag in ('--with-sqs', '--with-iot-core', '--with-kms'):
        p.add_argument(flag, action='store_true')
    p.add_argument('--postgres-port', type=port, default=5432)
    p.add_argument('--mqtt-port', type=port, default=1984)
    p.add_argument('--infrastructure-port', type=port_range, action='append')
    p.add_argument('--cidr', type=cidr_arg, action='append', default=[])
    p.add_argument('--namespace', default='spacelift')
    p.add_argument('--worker-namespace', default='spacelift-workers')
    p.add_argument('--ingress-namespace')
    p.add_argument('--workers', choices=['in-cluster', 'external'], default='in-cluster')
    p.add_argument('--allow-ssh-from', action='append', default=[])   # host firewalls only
    # AWS options: no effect on this target
    p.add_argument('--vpc-id')
    p.add_argument('--name-prefix')
    p.add_argument('--prefix-list', action='append', default=[])
    p.add_argument('--max-rules')
    a = p.parse_args(argv)
    if a.with_iot_core and not a.with_sqs:
        raise Usage('topogen args: --with-iot-core requires --with-sqs')
    if a.mqtt_port == HTTP_PORT:
        raise Usage(f'topogen args: the MQTT port may not be the HTTP port {HTTP_PORT}')
    a.infra_ports = norm(a.infrastructure_port or [(443, 443)])
    a.cidrs = defaultdict(list)   # node -> [(version, lo, hi)]; lists of a repeated node merge
    for node, nets in a.cidr:
        a.cidrs[node] += nets
    if a.namespace == a.worker_namespace or 'kube-system' in (a.namespace, a.worker_namespace) or \
            a.ingress_namespace in (a.namespace, a.worker_namespace):
        raise Usage('the oracle fixture needs distinct backend, worker and ingress namespaces (not kube-system)')
    a.file_mode, a.pods, a.gateway, a.proxy_port, a.private, a.extras = False, {}, None, None, set(), []
    a.pools = [SimpleNamespace(node='worker', infra='infrastructure', placement=a.workers,
                               namespace=a.worker_namespace, labels={}, infra_ports=a.infra_ports)]
    return a


# ---------------------------------------------------------------- topology files
def parse_cidrs(values, where):
    try:
        nets = [ipaddress.ip_network(c, strict=False) for c in values or []]
    except (ValueError, TypeError) as e:
        raise Usage(f'topology file: {where}: {e}')
    return [(n.version, int(n.network_address), int(n.broadcast_address)) for n in nets]


def parse_port(value, where):
    """A topology file's port: N, "N-M" or "N/udp" -> (protocol, lo, hi)."""
    text = str(value)
    proto = 'TCP'
    if '/' in text:
        text, _, p = text.partition('/')
        proto = p.upper()
    try:
        lo, hi = port_range(text)
    except argparse.ArgumentTypeError as e:
        raise Usage(f'topology file: {where}: {e}')
    if proto not in ('TCP', 'UDP'):
        raise Usage(f'topology file: {where}: unknown protocol {proto!r}')
    return proto, lo, hi


def parse_topology_file(path, flags):
    """The topology file (docs/topology-file.md), read here independently of topogen's decoder,
    in the shape parse_topogen_args gives; flags beside --topology are not supported."""
    if flags:
        raise Usage(f'topology file: the oracle does not combine a file with flags {flags}')
    try:
        with open(path) as f:
            t = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise Usage(f'cannot read topology file: {e}')
    opts, ports, k8s = t.get('options') or {}, t.get('ports') or {}, t.get('kubernetes') or {}
    a = SimpleNamespace(file_mode=True, with_sqs=bool(opts.get('sqs')), with_iot_core=bool(opts.get('iotCore')),
                        with_kms=bool(opts.get('kms')), postgres_port=int(ports.get('postgres', 5432)),
                        mqtt_port=int(ports.get('mqtt', 1984)), namespace=k8s.get('namespace', 'spacelift'),
                        ingress_namespace=k8s.get('ingressNamespace'), cidrs=defaultdict(list), pods={},
                        pools=[], gateway=None, proxy_port=None, private=set(), extras=[])

    def place(node, spec, where):
        spec = spec or {}
        if spec.get('cidrs'):
            a.cidrs[node] += parse_cidrs(spec['cidrs'], f'{where}.cidrs')
        if spec.get('kubernetes'):
            a.pods[node] = (spec['kubernetes']['namespace'], dict(spec['kubernetes'].get('labels') or {}))

    for node, spec in (t.get('nodes') or {}).items():
        place(node, spec, f'nodes.{node}')
    for i, pool in enumerate(t.get('workerPools') or []):
        name = pool['name']
        infra = pool.get('infrastructure') or {}
        kube = pool.get('kubernetes') or {}
        p = SimpleNamespace(node=f'worker-{name}', infra=f'infrastructure-{name}',
                            placement=pool.get('placement', 'in-cluster'),
                            namespace=kube.get('namespace', f'spacelift-workers-{name}'),
                            labels=dict(kube.get('labels') or {}),
                            infra_ports=norm([parse_port(x, f'workerPools[{i}].infrastructure.ports')[1:]
                                              for x in infra.get('ports') or [443]]))
        a.pools.append(p)
        if pool.get('cidrs'):
            a.cidrs[p.node] += parse_cidrs(pool['cidrs'], f'workerPools[{i}].cidrs')
        place(p.infra, {k: v for k, v in infra.items() if k != 'ports'}, f'workerPools[{i}].infrastructure')
    if not a.pools:
        a.pools = [SimpleNamespace(node='worker', infra='infrastructure', placement='in-cluster',
                                   namespace='spacelift-workers', labels={}, infra_ports=((443, 443),))]
    if 'vcsGateway' in t:
        g = t['vcsGateway'] or {}
        a.gateway = SimpleNamespace(grpc=int(g.get('grpcPort', 1984)), http=int(g.get('httpPort', 1985)))
        place('vcs-gateway-lb', g.get('loadBalancer'), 'vcsGateway.loadBalancer')
    if t.get('egressProxy'):
        a.proxy_port = int(t['egressProxy']['port'])
        place('egress-proxy', t['egressProxy'], 'egressProxy')
    for node, spec in (t.get('privateEndpoints') or {}).items():
        a.private.add(node)
        place(node, spec, f'privateEndpoints.{node}')
    for i, e in enumerate(t.get('extraEgress') or []):
        c = NONE
        for x in e['ports']:
            proto, lo, hi = parse_port(x, f'extraEgress[{i}].ports')
            c = c | conns(proto, (lo, hi))
        a.extras.append(SimpleNamespace(node=e['name'], sources=list(e['from']), conns=c,
                                        https_only=[str(x) for x in e['ports']] in (['443'], ['443/tcp'])))
        place(e['name'], e, f'extraEgress[{i}]')
    ours = [a.namespace] + [p.namespace for p in a.pools if p.placement == 'in-cluster']
    if 'kube-system' in ours or a.ingress_namespace in ours or a.namespace in ours[1:]:
        raise Usage('the oracle fixture needs pool namespaces apart from the backend, ingress and kube-system ones')
    return a


def read_args(args_file, args_string):
    """The topogen arguments of an args file (blank and '#' lines ignored, the others split on
    whitespace) or string; a topology file given as the args file stands for `--topology FILE`."""
    if args_file and args_file.endswith(('.yaml', '.yml', '.json')):
        return ['--topology', args_file]
    try:
        with open(args_file or os.devnull) as f:
            return [t for ln in f if not ln.lstrip().startswith('#') for t in ln.split()] \
                if args_file else args_string.split()
    except OSError as e:
        raise Usage(str(e))


def load_topology(targs):
    """The topology of some topogen arguments: flags, or `--topology FILE`."""
    if '--topology' in targs:
        i = targs.index('--topology')
        if i + 1 >= len(targs):
            raise Usage('topogen args: --topology needs a file')
        return parse_topology_file(targs[i + 1], targs[:i] + targs[i + 2:])
    return parse_topogen_args(targs)


# ---------------------------------------------------------------- fixture
class Pod:
    def __init__(self, ns, name, labels, role):
        self.ns, self.name, self.labels, self.role, self.key = ns, name, labels, role, f'{ns}/{name}'


def fixture(a):
    ing = a.ingress_namespace or 'ingress-nginx'
    pool_ns = [p.namespace for p in a.pools]
    other = next(n for n in ('other', 'other-1', 'other-2') if n not in [a.namespace, ing] + pool_ns)
    b, inst = a.namespace, 'app.kubernetes.io/instance'
    run = lambda i: {'workers.spacelift.io/run-id': f'run-{i}', 'workers.spacelift.io/worker': f'w-{i}'}  # noqa: E731
    pods = [Pod(b, 'server-0', {NAME: 'spacelift-self-hosted', inst: 'spacelift'}, 'server'),
            Pod(b, 'drain-0', {NAME: 'spacelift-self-hosted-drain', inst: 'spacelift-drain'}, 'drain'),
            Pod(b, 'scheduler-0', {NAME: 'spacelift-self-hosted-scheduler', inst: 'spacelift-scheduler'}, 'scheduler')]
    if a.gateway:
        pods.append(Pod(b, 'vcs-gateway-0', {NAME: 'spacelift-self-hosted-vcs-gateway',
                                             inst: 'spacelift-vcs-gateway'}, 'vcs-gateway'))
    pods.append(Pod(b, 'misc-0', {'app': 'misc'}, 'misc'))
    # Two pods per pool (so that worker-to-worker isolation is tested too), with the pool's labels
    # and per-run ones; external pools have pods only in the flags' fixture (foreign pods then).
    runs = 0
    for pool in a.pools:
        if a.file_mode and pool.placement != 'in-cluster':
            continue
        for i in range(2):
            runs += 1
            pods.append(Pod(pool.namespace, f'{pool.node}-{i}', {**pool.labels, **run(runs)}, pool.node))
    # A pod of a labelled pool's namespace that no pool selects: the namespace's default deny.
    for ns in dict.fromkeys(p.namespace for p in a.pools if p.labels and p.placement == 'in-cluster'):
        if not any(p.namespace == ns and not p.labels for p in a.pools):
            pods.append(Pod(ns, 'idle-0', {'app': 'idle'}, 'idle'))
    pods += [Pod('kube-system', 'kube-dns-0', {'k8s-app': 'kube-dns'}, 'kube-dns'),
             # a second kube-system pod, so that selecting kube-dns is not selecting the namespace
             Pod('kube-system', 'kube-proxy-0', {'k8s-app': 'kube-proxy'}, 'kube-proxy'),
             Pod(ing, 'ingress-controller-0', {NAME: 'ingress-nginx'}, 'ingress'),
             Pod(other, 'other-0', {'app': 'other'}, 'other')]
    # External nodes living in the cluster, each beside a bystander of its namespace that it
    # must not be confused with.
    for node, (ns, labels) in sorted(a.pods.items()):
        pods.append(Pod(ns, f'{node}-0', dict(labels) or {'app': node}, node))
        if labels and not any(p.ns == ns and p.role == 'bystander' for p in pods):
            pods.append(Pod(ns, 'bystander-0', {'app': 'bystander'}, 'bystander'))
    return pods


def fixture_yaml(pods):
    items = [{'apiVersion': 'v1', 'kind': 'Namespace',
              'metadata': {'name': ns, 'labels': {'kubernetes.io/metadata.name': ns}}}
             for ns in sorted({p.ns for p in pods})]
    items += [{'apiVersion': 'v1', 'kind': 'Pod',   # NCA requires spec.containers on a Pod
               'metadata': {'name': p.name, 'namespace': p.ns, 'labels': p.labels},
               'spec': {'containers': [{'name': 'main', 'image': 'example.invalid/main'}]}} for p in pods]
    return yaml.safe_dump({'apiVersion': 'v1', 'kind': 'List', 'items': items}, sort_keys=False)


# ---------------------------------------------------------------- expected connectivity (flows.md)
def in_addrs(ranges):
    """Matcher: an address atom inside one of the ranges (atoms never straddle a range edge)."""
    return lambda ep: isinstance(ep, tuple) and any(v == ep[0] and lo <= ep[1] and ep[2] <= hi
                                                    for v, lo, hi in ranges)


def pod_where(pred):
    return lambda ep: isinstance(ep, Pod) and pred(ep)


def pods_of(ns, labels):
    return pod_where(lambda p: p.ns == ns and all(p.labels.get(k) == v for k, v in labels.items()))


def node_matcher(a, node):
    """Where a node is: its pods (and addresses, if given) when it lives in the cluster; the
    cluster DNS pods for DNS without addresses; else its addresses, any when none were given."""
    by_addr = in_addrs(a.cidrs.get(node) or ([] if node in a.pods else ANY))
    if node in a.pods:
        by_pod = pods_of(*a.pods[node])
        return lambda ep: by_pod(ep) or by_addr(ep)
    if node == 'dns' and 'dns' not in a.cidrs:
        return pods_of('kube-system', {'k8s-app': 'kube-dns'})
    return by_addr


def expected_rules(a):
    """(egress rules by role, ingress rules by role); a rule is (matcher, Conns). A role is a
    component's node name: server, drain, scheduler, vcs-gateway, and each pool's worker node."""
    def match(node):
        return node_matcher(a, node)

    https, mqtt = conns('TCP', 443), conns('TCP', a.mqtt_port)

    def out(node, c, https_only=None):
        """Egress to an external node; with a proxy, a connection on exactly 443/tcp to a node
        that is not a private endpoint goes to the proxy instead (docs/topology-file.md)."""
        exactly_https = c == https if https_only is None else https_only
        if a.proxy_port and exactly_https and node not in a.private:
            return (match('egress-proxy'), conns('TCP', a.proxy_port))
        return (match(node), c)

    dns = (match('dns'), DNS)
    pg = out('postgres', conns('TCP', a.postgres_port))
    optional = [out(n, https) for on, n in ((a.with_sqs, 'sqs'), (a.with_iot_core, 'iot-core'),
                                            (a.with_kms, 'kms')) if on]
    server_pod = pods_of(a.namespace, {NAME: 'spacelift-self-hosted'})
    gateway_pod = pods_of(a.namespace, {NAME: 'spacelift-self-hosted-vcs-gateway'})
    to_gateway = [(gateway_pod, conns('TCP', a.gateway.http))] if a.gateway else []
    backend = [pg, out('object-storage', https), out('vcs', https)] + optional + to_gateway + [dns]
    egress = {'server': list(backend), 'drain': list(backend),
              'scheduler': [pg] + ([out('sqs', https)] if a.with_sqs else []) + [dns]}
    if a.gateway:
        egress['vcs-gateway'] = [pg, dns]
    in_cluster = [p for p in a.pools if p.placement == 'in-cluster']
    for p in in_cluster:
        infra = conns('TCP', *p.infra_ports)
        egress[p.node] = [(in_addrs(a.cidrs.get('lb') or ANY), https),   # lb is not proxied
                          out('iot-core', https) if a.with_iot_core else (server_pod, mqtt),
                          out('object-storage', https), out('vcs', https), out('container-registry', https),
                          out(p.infra, infra, p.infra_ports == ((443, 443),)), dns]
    for e in a.extras:
        for source in e.sources:
            if source in egress:
                egress[source].append(out(e.node, e.conns, e.https_only))

    def from_ingress(node):
        """A load balancer's traffic: from the ingress controller's pods; else from the load
        balancer's addresses (one with IP targets reaches pods from its own); else anywhere.
        A load balancer given as pods (an ingress controller's) is those pods."""
        if node in a.pods:
            return match(node)
        if a.ingress_namespace:
            return pod_where(lambda p: p.ns == a.ingress_namespace)
        if node in a.cidrs:
            return in_addrs(a.cidrs[node])
        return lambda ep: True

    server_in = [(from_ingress('lb'), conns('TCP', HTTP_PORT))]
    if not a.with_iot_core:   # built-in broker
        server_in += [(pods_of(p.namespace, p.labels), mqtt) for p in in_cluster]
        external = [p for p in a.pools if p.placement != 'in-cluster']
        if external:   # an L4 load balancer passes the clients' (and external workers') addresses
            server_in.append((in_addrs(a.cidrs.get('clients') or ANY), mqtt))
            server_in += [(in_addrs(a.cidrs[p.node]), mqtt) for p in external if p.node in a.cidrs]
    ingress = {'server': server_in}
    if a.gateway:
        ingress['vcs-gateway'] = [(from_ingress('vcs-gateway-lb'), conns('TCP', a.gateway.grpc)),
                                  (pod_where(lambda q: q.role in ('server', 'drain') and q.ns == a.namespace),
                                   conns('TCP', a.gateway.http))]
    return egress, ingress


def allowed(rules, ep):
    return functools.reduce(operator.or_, (c for match, c in rules if match(ep)), NONE)


# ---------------------------------------------------------------- policies and NCA
def read_policies(path, ours_ns):
    """Own YAML parse (NCA skips unparsable files). Returns (docs, misplaced policy names)."""
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        raise Usage(f'cannot read policies: {e}')
    for d in docs:
        if not isinstance(d, dict) or d.get('kind') != 'NetworkPolicy' or \
                d.get('apiVersion') != 'networking.k8s.io/v1' or not isinstance(d.get('spec'), dict):
            raise Usage(f'not a networking.k8s.io/v1 NetworkPolicy: {str(d)[:120]}')
    md = [d.get('metadata') or {} for d in docs]
    return docs, [f'{m.get("name")} in namespace {m.get("namespace")}' for m in md if m.get('namespace') not in ours_ns]


def one_side(docs, keep):
    """The policies restricted to one direction ('Ingress' or 'Egress')."""
    out = []
    for d in docs:
        spec = d['spec']
        types = spec.get('policyTypes') or ['Ingress'] + (['Egress'] if 'egress' in spec else [])
        if keep in types:
            drop = 'egress' if keep == 'Ingress' else 'ingress'
            out.append({**d, 'spec': {**{k: v for k, v in spec.items() if k != drop}, 'policyTypes': [keep]}})
    return out


def run_nca(nca, tmp, cluster, policy_files, verbose):
    """One NCA process, one connectivity map per policy file. Returns the map texts."""
    outs = [os.path.join(tmp, f'map{i}.txt') for i in range(len(policy_files))]
    scheme = {'namespaceList': cluster, 'podList': cluster,
              'networkConfigList': [{'name': f'v{i}', 'networkPolicyList': [f]} for i, f in enumerate(policy_files)],
              'queries': [{'name': f'q{i}', 'connectivityMap': [f'v{i}'],
                           'outputConfiguration': {'outputFormat': 'txt_no_fw_rules', 'outputPath': out,
                                                   'excludeIPv6Range': False}} for i, out in enumerate(outs)]
                         # NCA's sanity check of the file as given: redundant or shadowed rules,
                         # selectors that select nothing, invalid values all fail the run.
                         + [{'name': 'sanity', 'sanity': ['v0'],
                             'expected': 0}]}
    path = os.path.join(tmp, 'scheme.yaml')
    with open(path, 'w') as f:
        yaml.safe_dump(scheme, f)
    cmd = [nca, '--scheme', path]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Usage(f'cannot run nca: {e}')
    errors = [ln for ln in (r.stdout + r.stderr).splitlines() if re.search(r'(?:^|\s)(?:Parse )?Error:', ln)]
    # A failed sanity check is a finding about the policies (exit 1), not an engine failure.
    sanity, lines = [], r.stdout.splitlines()
    for i, ln in enumerate(lines):
        if ln.endswith('failed sanity check:'):
            sanity = [x for x in lines[i + 1:] if x.strip()][:50]
            sanity = sanity[:next((j for j, x in enumerate(sanity) if x.startswith('Query ')), len(sanity))]
    if (r.returncode != 0 and not sanity) or errors or not all(map(os.path.exists, outs)):
        raise Usage(f'nca failed (rc {r.returncode}): {" ".join(cmd)}\n{r.stderr.strip()}\n{r.stdout.strip()}')
    if verbose:
        print(r.stderr.strip(), file=sys.stderr)
    m = re.search(r'cluster has (\d+) unique endpoints', r.stdout)
    if not m:
        raise Usage(f'unexpected nca stdout:\n{r.stdout}')
    texts = []
    for out in outs:
        with open(out) as f:
            texts.append(f.read())
    return int(m[1]), texts, sanity


def parse_map(text, by_key):
    """[(src, dst, Conns)]; src/dst a Pod or a list of address ranges."""
    lines = []
    for ln in text.splitlines():
        if not ln.strip():
            continue
        m = re.fullmatch(r'(\S+) => (\S+) : (.+)', ln)
        if not m:
            raise Usage(f'cannot parse NCA line {ln!r}')
        ends = []
        for tok in (m[1], m[2]):
            pm = re.fullmatch(r'([^/\s]+)/([^/\[\s]+)\[Pod\]', tok)
            if pm:   # pods NCA added ("livesim") become unlabelled foreign pods
                ends.append(by_key.setdefault(tok[:-5], Pod(pm[1], pm[2], {}, 'unknown')))
            elif (rs := parse_ip_token(tok)) is not None:
                ends.append(rs)
            else:
                raise Usage(f'cannot parse NCA endpoint {tok!r} in {ln!r}')
        try:
            lines.append((ends[0], ends[1], parse_conns(m[3])))
        except Usage as e:
            raise Usage(f'{e} in NCA line {ln!r}')
    return lines


# ---------------------------------------------------------------- reporting helpers
def ep_key(e):
    return (0, e.key) if isinstance(e, Pod) else (1,) + e


def fmt_ep(e):
    if isinstance(e, Pod):
        return e.key
    v, lo, hi = e
    cls = ipaddress.IPv4Address if v == 4 else ipaddress.IPv6Address
    nets = list(ipaddress.summarize_address_range(cls(lo), cls(hi)))
    return ','.join(map(str, nets)) if len(nets) <= 2 else f'{cls(lo)}-{cls(hi)}'


def merge_atoms(rows):
    """rows (src, dst, x, y): merge runs of adjacent address atoms whose other fields are equal."""
    out = []
    for r in rows:
        p = out[-1] if out else None
        for i in (0, 1):
            if p and isinstance(r[i], tuple) and isinstance(p[i], tuple) and p[1 - i] is r[1 - i] and \
                    p[i][0] == r[i][0] and p[i][2] + 1 == r[i][1] and p[2:] == r[2:]:
                out[-1] = tuple((p[i][0], p[i][1], r[i][2]) if k == i else p[k] for k in range(4))
                break
        else:
            out.append(r)
    return out


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description='k8s NetworkPolicy oracle (NCA) for topogen')
    ap.add_argument('--policies', required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--args-file')
    g.add_argument('--args', dest='args_string', help='the topogen arguments as one string')
    ap.add_argument('--nca', default=os.path.join(os.path.dirname(sys.executable), 'nca'))
    ap.add_argument('-q', '--quiet', action='store_true', help='on success print only the summary line')
    ap.add_argument('-v', '--verbose', action='store_true', help="also print NCA's warnings and maps")
    argv = sys.argv[1:]   # let `--args "--with-sqs ..."` through although its value starts with "--"
    if '--args' in argv[:-1]:
        i = argv.index('--args')
        argv[i:i + 2] = ['--args=' + argv[i + 1]]
    o = ap.parse_args(argv)
    targs = read_args(o.args_file, o.args_string)
    a = load_topology(targs)
    pool_nodes = [p.node for p in a.pools if p.placement == 'in-cluster']
    in_cluster = bool(pool_nodes)
    ours_ns = {a.namespace} | {p.namespace for p in a.pools if p.placement == 'in-cluster'}
    pods = fixture(a)
    docs, misplaced = read_policies(o.policies, ours_ns)

    with tempfile.TemporaryDirectory(prefix='k8s-oracle-') as tmp:
        files = [os.path.abspath(o.policies)]
        for name, keep in VIEWS[1:]:
            files.append(os.path.join(tmp, f'{keep.lower()}-only.yaml'))
            with open(files[-1], 'w') as f:
                yaml.safe_dump_all(one_side(docs, keep), f, sort_keys=False)
        cluster = os.path.join(tmp, 'cluster.yaml')
        with open(cluster, 'w') as f:
            f.write(fixture_yaml(pods))
        n_nca_eps, texts, sanity = run_nca(o.nca, tmp, cluster, files, o.verbose)
    if n_nca_eps < len(pods):
        raise Usage(f'nca saw {n_nca_eps} endpoints, the fixture has {len(pods)} pods')
    if o.verbose:
        for (name, _), t in zip(VIEWS, texts):
            print(f'--- NCA map, {name}:\n{t}', file=sys.stderr)

    by_key = {p.key: p for p in pods}
    maps = [parse_map(t, by_key) for t in texts]
    # Common partition of the address space: every range edge, NCA's and ours.
    bounds = {4: {0, MAXIP[4] + 1}, 6: {0, MAXIP[6] + 1}}
    ranges = [r for rs in a.cidrs.values() for r in rs] + list(ANY) + \
        [r for lines in maps for s, d, _ in lines for e in (s, d) if isinstance(e, list) for r in e]
    for v, lo, hi in ranges:
        bounds[v] |= {lo, hi + 1}
    atoms = [(v, lo, nxt - 1) for v in (4, 6) for lo, nxt in zip(sorted(bounds[v]), sorted(bounds[v])[1:])]

    def expand(e):
        return [e] if isinstance(e, Pod) else [t for t in atoms if in_addrs(e)(t)]

    gots = [defaultdict(lambda: NONE) for _ in maps]   # (src, dst) -> Conns; an end is a Pod or an atom
    for got, lines in zip(gots, maps):
        for s, d, c in lines:
            for se, de in ((se, de) for se in expand(s) for de in expand(d)):
                got[se, de] = got[se, de] | c

    all_pods = sorted(by_key.values(), key=lambda p: p.key)
    is_ours = lambda e: isinstance(e, Pod) and e.ns in ours_ns   # noqa: E731
    egress, ingress = expected_rules(a)

    def expect(s, d, view=None):
        e = allowed(egress.get(s.role, []), d) if is_ours(s) and view != 'Ingress' else ALL
        i = allowed(ingress.get(d.role, []), s) if is_ours(d) and view != 'Egress' else ALL
        return e & i

    cells = []   # ordered so that adjacent address atoms merge in the report
    for p in (p for p in all_pods if is_ours(p)):
        cells += [(p, q) for q in all_pods + atoms if q is not p]
        cells += [(q, p) for q in all_pods + atoms if not is_ours(q)]
    mismatches, seen = [f'NCA sanity check: {x}' for x in sanity], set()
    for (name, keep), got in zip(VIEWS, gots):
        rows = [(s, d, got[s, d] & ~e, e & ~got[s, d]) for s, d in cells if (e := expect(s, d, keep)) != got[s, d]]
        for s, d, extra, missing in merge_atoms(rows):
            for c, exp, gt in ((extra, 'deny', 'allow'), (missing, 'allow', 'deny')):
                msg = f'{fmt_ep(s)} -> {fmt_ep(d)}  {c}: expected {exp}, got {gt}'
                if c and msg not in seen:   # a side view repeats what the combined view said
                    seen.add(msg)
                    mismatches.append(msg if keep is None else f'[{name}] {msg}')

    # Named assertions: the cases flows.md calls out, read directly off NCA's combined map.
    got = gots[0]
    reach_all = sorted(((s, d, c) for (s, d), c in got.items() if c), key=lambda r: (ep_key(r[0]), ep_key(r[1])))

    def reach(src=lambda s: True, dst=lambda d: True, only=ALL, unless=lambda s, d: NONE):
        rows = [(s, d, c & only & ~unless(s, d), None) for s, d, c in reach_all if src(s) and dst(d)]
        return [f'{fmt_ep(s)} -> {fmt_ep(d)}  {c}' for s, d, c, _ in merge_atoms([r for r in rows if r[2]])]

    role = lambda *roles: lambda e: is_ours(e) and e.role in roles   # noqa: E731
    addrs = lambda node: node_matcher(a, node)                      # noqa: E731
    https = conns('TCP', 443)
    named = [
        # an explicit infrastructure flow may overlap postgres: only reach beyond the spec fails
        ('workers never reach postgres', reach(role(*pool_nodes), addrs('postgres'), conns('TCP', a.postgres_port),
                                               expect) if in_cluster else None),
        ('the scheduler reaches 443 only with --with-sqs (and then only SQS)',
         reach(role('scheduler'), lambda d: not ((a.with_sqs and addrs('sqs')(d)) or
                                                 (a.postgres_port == 443 and addrs('postgres')(d))), https)
         if not a.proxy_port and not any('scheduler' in e.sources for e in a.extras) else None),
        ('nothing reaches drain, scheduler or worker pods', reach(dst=role('drain', 'scheduler', *pool_nodes))),
        ('nothing reaches the MQTT port with --with-iot-core',
         reach(dst=is_ours, only=conns('TCP', a.mqtt_port)) if a.with_iot_core else None),
        ('misc-0 is isolated', reach(role('misc')) + reach(dst=role('misc'))),
        ('pods of pool namespaces that no pool selects are isolated',
         reach(role('idle')) + reach(dst=role('idle')) if any(p.role == 'idle' for p in pods) else None),
        ('the VCS gateway accepts only its gRPC port and its HTTP port',
         reach(dst=role('vcs-gateway'), only=~(conns('TCP', a.gateway.grpc) | conns('TCP', a.gateway.http)))
         if a.gateway else None),
        ("policies only in topogen's namespaces", misplaced),
    ]
    failed = [n for n, v in named if v]
    ok = not mismatches and not failed
    if not (o.quiet and ok):
        print(f'k8s oracle: {len(all_pods)} pods, {len(atoms)} address ranges, {len(docs)} policies '
              f'(args: {" ".join(targs) or "defaults"})')
        for n, v in named:
            print(f'  {"n/a " if v is None else "FAIL" if v else "ok  "}  {n}')
            for x in v or []:
                print(f'          {x}')
    if not ok:
        print(f'k8s oracle: {len(mismatches)} mismatches, {len(failed)} named checks failed')
        for x in mismatches:
            print(f'  MISMATCH  {x}')
        return 1
    print(f'k8s oracle: {len(all_pods) + len(atoms)} endpoints, {len(cells)} checks x {len(VIEWS)} views '
          f'(+{sum(v is not None for _, v in named)} named), NCA sanity clean, all as expected')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Usage as e:
        print(f'k8s oracle: error: {e}', file=sys.stderr)
        sys.exit(2)
