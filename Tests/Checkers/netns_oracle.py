#!/usr/bin/env python3
"""Independent oracle for topogen's host firewalls (iptables, nftables), judged by a real kernel.

    .venv/bin/python3 Tests/Checkers/netns_oracle.py --target iptables|nftables --dir DIR
                      (--args-file examples/NAME.args | --args-file examples/NAME.yaml | --args "...") [-v]

Run as root. It parses the topogen arguments itself (own argparse, as k8s_oracle.py), and a
topology file (`--topology FILE`, or a .yaml/.yml/.json --args-file; docs/topology-file.md, read
with PyYAML: worker pools `worker-NAME` with their `infrastructure-NAME`, the VCS gateway and its
load balancer, the egress proxy (a component's connection to an external service on exactly
443/tcp goes to the proxy's CIDRs on its port, unless the service is a private endpoint), extra
egress; only `cidrs` count, security groups, prefix lists and Kubernetes selectors mean "any"
here), loads DIR/<role>.sh or DIR/<role>.nft of every role (server, drain, scheduler, each worker
pool, vcs-gateway) into network namespaces and proves in one run: (a) each ruleset loads for real; (b) applying twice changes
nothing, one jump per hooked chain, first in its chain; iptables: re-applying after a foreign rule
was inserted above the jumps puts each jump back on top, once, and keeps the foreign rule; (c)
Docker/kube-proxy-like chains and a foreign nft table survive apply and removal; (d) removal
restores the ruleset exactly, iptables even with a stale TOPOGEN-* chain and extra jumps to
TOPOGEN-* chains added first; (e) `sh R.sh check` (nft -c -f) passes and changes nothing; (f)
iptables, a worker without Docker: FORWARD's first rule is the one jump to TOPOGEN-FORWARD, no
DOCKER-USER chain is created, remove leaves nothing of topogen's; and each probe is OPEN, FILTERED
(or, for RELATED, REFUSED) exactly as spec/flows.md and the README's host firewall section imply
(the model below is independent of topogen), container traffic forwarded by the worker included.
Exit 0: all as expected; 1: mismatches (listed); 2: usage or fixture error. A REFUSED probe
where none is expected (a listener missing, or rules that REJECT instead of DROP) is a fixture
error, never "denied".

Fixture (names carry the PID; no interface is in the host's namespace, so no packet leaves,
whatever addresses are used inside): a namespace per role host, per address node (lb clients
postgres object-storage vcs container-registry infrastructure sqs iot-core kms dns), `admin` (SSH
source) and `other`, each with eth0 on one bridge, a /32 and a /128, on-link default routes.
- Addresses, per family: the first free usable host of the node's first CIDR of that family; with
  none ("any", /0, only the other family) a fresh one from the first /24 of 198.18.0.0/15 (/64 of
  fd00:7e57::/32) overlapping no user CIDR. Nodes sharing a CIDR ("any") get one address each. A
  node whose CIDR is a single host another endpoint holds (lb=X and clients=X, dns on the server's
  address) becomes a second name of that endpoint (a role host gets a fresh address instead).
  Expectations follow from addresses (is the destination in a flow's CIDRs of its family?), never
  from names, so overlaps and "any" are judged correctly.
- Containers behind the worker (the first worker pool's host), as Docker lays them out: a bridge `docker0` (IPv4, IPv6) with
  `container` and `container2` on it (veth ports), and a user-defined network `br-7e57c0de0001`
  (a veth) to `container3`; forwarding, Docker-like MASQUERADE, filter FORWARD policy DROP with
  `-j DOCKER-USER` first. Their networks are a /24 (/64) inside a CIDR the worker's egress flows
  reach, where one is that large (else fresh), so that only the bridge rule can keep a new
  connection on such a port out. Docker's chains here accept every new connection into a container (as if
  every port were published, and no isolation between networks), so that only topogen's rules keep
  them out. The worker's bridge needs br_netfilter for container -> container2 (bridged) to meet
  netfilter at all: it is built into this kernel and per namespace; where it is missing, container2
  is left out with a printed note (container3, routed, still covers container-to-container).
  `other`, `clients` and `admin` route the container networks via the worker (onlink), and before
  any rule is loaded a control run proves those routes and container-to-container really connect
  through the worker (a fixture error otherwise), so a FILTERED probe into a container means the
  worker's forward path dropped it.
- Listeners are sockets of this process made in each namespace with setns(2) (nothing to leak):
  TCP on every port of the set (dual-stack), UDP 53 123 161 443 1983 per address, SCTP on the
  ports some flow mentions where the kernel has SCTP; each answers "<endpoint> <proto> <port>", which the
  probe checks (a reply from the wrong namespace is a fixture error). ICMP echo is answered by the
  kernel. Raw ICMP, ICMPv6 and SCTP sockets in every endpoint see what INPUT let in.
- Probes (connections), all in flight at once (in batches if the open-file limit is low): every
  ordered pair of endpoints with a role host at one end, and container and container3 -> every
  endpoint; every port of the set over TCP (SCTP: those some flow mentions), UDP 53 123 161 443
  1983, ICMP echo (ping sockets); IPv4 and IPv6.
  Into containers: other, clients, admin -> each container (all of the above; expected dropped:
  the worker drops every new connection out of a Docker bridge, docker0 or br-*). Between
  containers: container -> container2 (bridged on docker0), container -> container3 and back
  (routed between bridges): dropped whatever the port, for the same reason. Loopback: each role
  host -> 127.0.0.1 and ::1, every TCP port and ICMP echo: open. TCP/SCTP: banner = OPEN, nothing
  in 0.7 s = FILTERED, RST = REFUSED, connected but no banner = HALF-OPEN (a mismatch). UDP, ICMP
  echo: reply = OPEN; silence, or EPERM from the sender's own OUTPUT = FILTERED.
- RELATED, after the other probes: the dns endpoint's UDP 53 sockets are closed, and every role
  host, container and container3 sends an allowed UDP 53 query there: the kernel answers with an
  ICMP(v6) port unreachable, which must be accepted as RELATED (INPUT; the worker's FORWARD for
  containers) so that the query fails at once with ECONNREFUSED (expected REFUSED; FILTERED here
  means the error was dropped: the rules accept ESTABLISHED only).
- One-way packets (raw sockets), judged by whether the destination's raw socket sees them:
  role host <-> other, both ways, every ICMP type 0-255 and every ICMPv6 type 0-255 (code 0, a
  marker in the payload, from global addresses; ND and redirect types with hop limit 255, MLD with
  1, so that the receiving kernel discards them as invalid ND/MLD: no side effects). Only ICMPv6
  130-132, 143 (MLD) and 133-136 (ND) may pass, in INPUT and OUTPUT; nothing else of ICMP(v6)
  (a role's own neighbour discovery working is also shown by every open IPv6 probe). SCTP INIT
  chunks (CRC32c) for every pair and port of the TCP matrix: all dropped. These work whether or
  not the kernel has SCTP sockets; the SCTP connect probes run only where it has (a printed note
  and a count of zero otherwise: that is the kernel's limit, not a check that passed).
"""
import argparse
import contextlib
import ctypes
import difflib
import errno
import ipaddress
import os
import re
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

ROLES = ('server', 'drain', 'scheduler', 'worker')
EXTERNAL = 'lb clients postgres object-storage vcs container-registry infrastructure sqs iot-core kms dns'.split()
NODES = ROLES + tuple(EXTERNAL)
HTTP_PORT = 1983
UDP_PORTS = (53, 123, 161, 443, HTTP_PORT)   # 53: the DNS flows; no flow allows the others over UDP
DENY_TIMEOUT = 0.7
RAW_WAIT = 0.3            # one-way packets: how long after the last one is sent they may still arrive
ANY = (ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_network('::/0'))
FRESH = {4: ipaddress.ip_network('198.18.0.0/15'), 6: ipaddress.ip_network('fd00:7e57::/32')}
NETWORK = 'br-7e57c0de0001'   # a user-defined Docker network's bridge name: br- and 12 hex digits
ND_MLD = frozenset({130, 131, 132, 143, 133, 134, 135, 136})   # the ICMPv6 types INPUT and OUTPUT accept
IPPROTO_SCTP = 132
SCTP_SPORT = 0x7e57
MAGIC = b'topogen-netns-oracle'
ECHO_DATA = b'echo ' + MAGIC   # not at MAGIC's offset: raw sockets see pings too
STALE = 'TOPOGEN-STALE'   # a chain of an older topogen that `remove` must take out too
INTRUDER = ['-p', 'tcp', '--dport', '8080', '-j', 'ACCEPT']   # a foreign rule inserted above the jumps
KINDS = ('tcp', 'udp', 'icmp', 'sctp', 'loopback', 'into containers', 'between containers', 'related')
WORKERS = {'worker'}   # the worker pools' roles, whose hosts filter forwarded (container) traffic; set by main


class Usage(Exception):
    """Exit 2: bad arguments, missing rules files, broken fixture."""


# ---------------------------------------------------------------- topogen arguments
def port_range(s, single=False):
    m = re.fullmatch(r'(\d+)' + ('' if single else r'(?:-(\d+))?'), s)
    lo, hi = (int(m[1]), int(m[m.lastindex] or m[1])) if m else (0, 0)
    if not 1 <= lo <= hi <= 65535:
        raise argparse.ArgumentTypeError(f'invalid {"port" if single else "port or range"} {s!r}')
    return lo if single else (lo, hi)


def nets(s):
    """CIDR[,CIDR...]; a bare address is /32 or /128; host bits are tolerated, as iptables does."""
    try:
        return [ipaddress.ip_network(c, strict=False) for c in s.split(',')]
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def cidr_arg(s):
    node, sep, lst = s.partition('=')
    if not sep or not re.fullmatch(r'[a-z0-9]([a-z0-9-]*[a-z0-9])?', node) or not lst:
        raise argparse.ArgumentTypeError(f'expected NODE=CIDR[,CIDR...], NODE one of {", ".join(NODES)} '
                                         f'(or a node of the topology file): {s!r}')
    return node, nets(lst)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(f'topogen args: {message}')


def parse_topogen_args(argv):
    p = Parser(prog='topogen generate --target iptables', add_help=False, allow_abbrev=False)
    for flag in ('--with-sqs', '--with-iot-core', '--with-kms'):
        p.add_argument(flag, action='store_true')
    for opt, default in (('--postgres-port', 5432), ('--mqtt-port', 1984)):
        p.add_argument(opt, type=lambda s: port_range(s, single=True), default=default)
    p.add_argument('--infrastructure-port', type=port_range, action='append')
    p.add_argument('--cidr', type=cidr_arg, action='append', default=[])
    p.add_argument('--allow-ssh-from', type=nets, action='append', default=[])
    # AWS options: no effect on this target
    p.add_argument('--vpc-id')
    p.add_argument('--name-prefix')
    p.add_argument('--prefix-list', action='append', default=[])
    p.add_argument('--max-rules')
    for opt in ('--namespace', '--worker-namespace', '--ingress-namespace'):   # Kubernetes only
        p.add_argument(opt)
    p.add_argument('--workers', choices=['in-cluster', 'external'], default='in-cluster')
    p.add_argument('--topology')
    for flag in ('--with-sqs', '--with-iot-core', '--with-kms', '--postgres-port', '--mqtt-port'):
        p.set_defaults(**{flag[2:].replace('-', '_'): None})
    a = p.parse_args(argv)
    t = read_topology(a.topology) if a.topology else {}
    options, ports = t.get('options') or {}, t.get('ports') or {}
    for name, key in (('with_sqs', 'sqs'), ('with_iot_core', 'iotCore'), ('with_kms', 'kms')):
        if getattr(a, name) is None:   # a flag overrides the file
            setattr(a, name, bool(options.get(key, False)))
    a.postgres_port = a.postgres_port or int(ports.get('postgres', 5432))
    a.mqtt_port = a.mqtt_port or int(ports.get('mqtt', 1984))
    if a.with_iot_core and not a.with_sqs:
        raise Usage('topogen args: --with-iot-core requires --with-sqs')
    if a.mqtt_port == HTTP_PORT:
        raise Usage(f'topogen args: the MQTT port may not be the HTTP port {HTTP_PORT}')
    a.cidrs = defaultdict(list)   # node -> [ip_network]
    for node, fields in (t.get('nodes') or {}).items():
        a.cidrs[node] = file_nets(fields)
    pools = t.get('workerPools')
    if pools:
        a.pools = []
        for pool in pools:
            worker, infra = f'worker-{pool["name"]}', f'infrastructure-{pool["name"]}'
            infrastructure = pool.get('infrastructure') or {}
            a.pools.append((worker, infra, sorted({file_port(x)[1] for x in infrastructure.get('ports', [443])})))
            a.cidrs[worker], a.cidrs[infra] = file_nets(pool), file_nets(infrastructure)
    else:
        a.pools = [('worker', 'infrastructure', sorted(set(a.infrastructure_port or [(443, 443)])))]
    gateway = t.get('vcsGateway')
    a.gateway = None if gateway is None else (int(gateway.get('grpcPort', 1984)), int(gateway.get('httpPort', 1985)))
    if gateway is not None:
        a.cidrs['vcs-gateway'] = file_nets(gateway)
        a.cidrs['vcs-gateway-lb'] = file_nets(gateway.get('loadBalancer') or {})
    proxy = t.get('egressProxy')
    a.proxy = None if proxy is None else int(proxy['port'])
    if proxy is not None:
        a.cidrs['egress-proxy'] = file_nets(proxy)
    a.private = set(t.get('privateEndpoints') or {})
    for node, fields in (t.get('privateEndpoints') or {}).items():
        a.cidrs[node] = file_nets(fields) or a.cidrs.get(node, [])
    a.extra = []   # (name, sources, [(proto, (lo, hi))], reason)
    for extra in t.get('extraEgress') or []:
        a.extra.append((extra['name'], list(extra['from']), [file_port(x) for x in extra['ports']]))
        a.cidrs[extra['name']] = file_nets(extra)
    flags = defaultdict(list)   # --cidr replaces the file's addresses of that node; repeats merge
    for node, ns in a.cidr:
        flags[node] += ns
    a.cidrs.update(flags)
    a.ssh = [n for lst in a.allow_ssh_from for n in lst] or a.cidrs.pop('admin', [])
    a.cidrs.pop('admin', None)
    a.cidrs = defaultdict(list, {k: v for k, v in a.cidrs.items() if v})
    a.workers = [w for w, _, _ in a.pools]
    a.roles = ['server', 'drain', 'scheduler'] + a.workers + (['vcs-gateway'] if a.gateway else [])
    a.externals = EXTERNAL[:EXTERNAL.index('infrastructure')] + [i for _, i, _ in a.pools] + \
        EXTERNAL[EXTERNAL.index('infrastructure') + 1:] + (['vcs-gateway-lb'] if a.gateway else []) + \
        (['egress-proxy'] if a.proxy else []) + [n for n, _, _ in a.extra]
    a.infra_ports = sorted({r for _, _, rs in a.pools for r in rs})
    return a


def read_topology(path):
    """A topology file (docs/topology-file.md), YAML or JSON, as plain data."""
    try:
        import yaml
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except (OSError, ImportError) as e:
        raise Usage(f'topology file {path}: {e}')
    except yaml.YAMLError as e:
        raise Usage(f'topology file {path}: {e}')
    return data or {}


def file_nets(fields):
    """The `cidrs` of a node's address fields; security groups, prefix lists and Kubernetes
    selectors do not exist for a host firewall."""
    return [ipaddress.ip_network(c, strict=False) for c in (fields or {}).get('cidrs') or []]


def file_port(x):
    """A port of a topology file: N, "N-M", "N/udp" (tcp unless said) -> (proto, (lo, hi))."""
    text, _, proto = str(x).partition('/')
    return proto or 'tcp', port_range(text)


# ---------------------------------------------------------------- expected behaviour (flows.md)
def nets_of(a, node):
    return a.cidrs.get(node) or ANY   # no --cidr: any, both families


def covers(ns, addr):
    return any(n.version == addr.version and addr in n for n in ns)   # v4 CIDRs never match v6


def host_rules(a):
    """(egress, ingress) per role, each a list of (nets, proto, [(lo, hi)]): flows.md on hosts, the
    topology file's worker pools, VCS gateway, extra egress and egress proxy (a component's
    connection to an external service on exactly 443/tcp, unless the service is a private
    endpoint, goes to the proxy's addresses on its port instead)."""
    edges = {'lb', 'vcs-gateway-lb'}

    def tcp(node, *ports, proto='tcp'):
        ports = [p if isinstance(p, tuple) else (p, p) for p in ports]
        if a.proxy and node not in edges and node not in a.roles and proto == 'tcp' and ports == [(443, 443)] \
                and node not in a.private:
            return nets_of(a, 'egress-proxy'), 'tcp', [(a.proxy, a.proxy)]
        return nets_of(a, node), proto, ports

    def when(on, node):
        return [tcp(node, 443)] if on else []
    dns = [(nets_of(a, 'dns'), 'udp', [(53, 53)]), (nets_of(a, 'dns'), 'tcp', [(53, 53)])]
    pg, pull = tcp('postgres', a.postgres_port), tcp('container-registry', 443)   # pull: <component>-image-pull
    to_gateway = [tcp('vcs-gateway', a.gateway[1])] if a.gateway else []
    backend = [pg, tcp('object-storage', 443), tcp('vcs', 443)] + when(a.with_sqs, 'sqs') + \
        when(a.with_iot_core, 'iot-core') + when(a.with_kms, 'kms') + [pull] + dns + to_gateway
    egress = {'server': backend, 'drain': list(backend),   # two lists: extra egress differs
              'scheduler': [pg] + when(a.with_sqs, 'sqs') + [pull] + dns}
    for worker, infra, infra_ports in a.pools:
        egress[worker] = [tcp('lb', 443), tcp('iot-core', 443) if a.with_iot_core else tcp('lb', a.mqtt_port),
                          tcp('object-storage', 443), tcp('vcs', 443), pull, tcp(infra, *infra_ports)] + dns
    if a.gateway:
        egress['vcs-gateway'] = [pg, pull] + dns
    for name, sources, ports in a.extra:
        for source in sources:
            by_proto = defaultdict(list)
            for proto, rng in ports:
                by_proto[proto].append(rng)
            if ports == [('tcp', (443, 443))]:   # the proxy takes exactly 443/tcp
                egress[source].append(tcp(name, 443))
            else:
                egress[source] += [(nets_of(a, name), proto, rngs) for proto, rngs in by_proto.items()]
    ingress = {r: [(a.ssh, 'tcp', [(22, 22)])] for r in a.roles}
    ingress['server'] += [tcp('lb', HTTP_PORT)] + ([] if a.with_iot_core else [tcp('lb', a.mqtt_port)])
    if a.gateway:
        ingress['vcs-gateway'] += [tcp('vcs-gateway-lb', a.gateway[0]), tcp('server', a.gateway[1]),
                                   tcp('drain', a.gateway[1])]
    return egress, ingress


def permits(rules, addr, proto, port):
    return any(p == proto and covers(ns, addr) and any(lo <= port <= hi for lo, hi in ports) for ns, p, ports in rules)


def port_set(a):
    """Every port a flow mentions and some that nothing allows; range edges and their neighbours."""
    ports = {22, 53, 80, 443, 8080, 1983, 1984, 5432, a.postgres_port, a.mqtt_port}
    ports |= set(a.gateway or ()) | ({a.proxy} if a.proxy else set())
    for lo, hi in a.infra_ports + [rng for _, _, rs in a.extra for proto, rng in rs if proto == 'tcp']:
        ports |= {lo, hi, (lo + hi) // 2, max(lo - 1, 1), min(hi + 1, 65535)}
    return sorted(ports)


def expected(rules, worker, conts, p):
    """OPEN iff the source's egress (a role's OUTPUT; for a container the worker's FORWARD, the
    worker masquerading it) and the destination role's INPUT both allow it. Loopback is always
    accepted; nothing new is forwarded into a container (out of docker0 or br-*), whatever the
    port and wherever it comes from. No flow names ICMP or SCTP: permits() never allows them."""
    egress, ingress = rules
    src, dst, v, proto, port = p['src'], p['dst'], p['v'], p['proto'], p['port']
    if p.get('kind') == 'loopback':
        return 'OPEN'
    if dst in conts:
        return 'FILTERED'
    seen_from, ok = src.addr[v], True
    if src.role:
        ok = permits(egress[src.role], dst.addr[v], proto, port)
    elif src in conts and dst is not worker:
        ok, seen_from = permits(egress[worker.role], dst.addr[v], proto, port), worker.addr[v]
    if dst.role:
        ok = ok and permits(ingress[dst.role], seen_from, proto, port)
    return 'OPEN' if ok else 'FILTERED'


def packet_want(rules, worker, conts, k):
    """One-way packets: ICMPv6 ND and MLD pass INPUT and OUTPUT, nothing else of ICMP(v6) that is
    not RELATED; SCTP as the flows say (never)."""
    if k['proto'] == 'icmp':
        return 'DELIVERED' if k['v'] == 6 and k['type'] in ND_MLD else 'DROPPED'
    return 'DELIVERED' if expected(rules, worker, conts, k) == 'OPEN' else 'DROPPED'


# ---------------------------------------------------------------- fixture plan
class Ep:
    """An endpoint: one namespace, one address per family, one or more node names."""
    def __init__(self, name, ns, role=None):
        self.name, self.ns, self.role, self.nodes, self.addr = name, ns, role, [name], {}


def hosts(n, limit=64):
    """Usable host addresses of a network, in order (network and broadcast skipped where they exist)."""
    first = 1 if n.num_addresses > 2 else 0
    for i in range(first, min(n.num_addresses, first + limit)):
        x = n[i]
        if not (x.is_multicast or x.is_loopback or x.is_unspecified or x.is_reserved or
                (x.version == 6 and x.is_link_local) or str(x) == '255.255.255.255'):
            yield x


def plan(a, pid):
    user = [n for ns in list(a.cidrs.values()) + [a.ssh] for n in ns if n.prefixlen]
    free = {v: (s for s in FRESH[v].subnets(new_prefix=24 if v == 4 else 64) if not any(s.overlaps(u) for u in user))
            for v in (4, 6)}
    try:
        fresh_net = {v: next(free[v]) for v in (4, 6)}
    except StopIteration:
        raise Usage('the user CIDRs cover the whole fixture range 198.18.0.0/15 or fd00:7e57::/32')
    fresh = {v: hosts(fresh_net[v], 250) for v in (4, 6)}
    taken, eps = {}, []

    def own(ns, v):
        """The first free host of the first CIDR of family v; the Ep holding it if none is free; None."""
        for n in (n for n in ns if n.version == v and n.prefixlen):
            cands = list(hosts(n))
            if not cands:
                raise Usage(f'no usable host address in {n}')
            return next((c for c in cands if c not in taken), None) or taken[cands[0]]
        return None

    for name in a.roles + a.externals + ['admin', 'other']:
        ns = a.ssh if name == 'admin' else a.cidrs.get(name, [])
        got = {v: own(ns, v) for v in (4, 6)}
        holder = next((x for x in got.values() if isinstance(x, Ep)), None)
        if holder and name not in a.roles:
            holder.nodes.append(name)
            continue
        ep = Ep(name, f'nso{pid}-{name}', name if name in a.roles else None)
        for v in (4, 6):
            ep.addr[v] = got[v] if got[v] and not isinstance(got[v], Ep) else next(fresh[v])
            taken[ep.addr[v]] = ep
        eps.append(ep)
    dnet, unet = container_nets(a, fresh_net, free, taken)
    conts = []
    for name, net, i, link, port in (('container', dnet, 2, 'docker0', 'vethc0'),
                                     ('container2', dnet, 3, 'docker0', 'vethc1'),
                                     ('container3', unet, 2, NETWORK, NETWORK)):
        c = Ep(name, f'nso{pid}-{name}')
        c.net, c.link, c.port = net, link, port   # port: the worker's end of its veth
        c.gw, c.addr = {v: net[v][1] for v in (4, 6)}, {v: net[v][i] for v in (4, 6)}
        conts.append(c)
    vip = {v: next(fresh[v]) for v in (4, 6)}   # a kube-proxy service address nobody probes
    return eps, conts, vip


def container_nets(a, fresh_net, free, taken):
    """Per family, the networks of docker0 and of the user-defined network: /24 (/64) inside a CIDR
    the worker's egress flows reach where one is large enough (so that a flow would let a
    connection into a container through, were it not for the rule that drops every new connection
    out of a Docker bridge), holding no endpoint address; else fresh (covered by "any" if at all)."""
    out = ({}, {})
    for v, size in ((4, 24), (6, 64)):
        cands = list(dict.fromkeys(n for ns, _, _ in host_rules(a)[0][a.workers[0]] for n in ns
                                   if n.version == v and 0 < n.prefixlen <= size))
        for c in out:
            for n in cands:
                s = next((s for s in n.subnets(new_prefix=size) if not s.overlaps(fresh_net[v])
                          and not any(x in s for x in taken) and all(s != d.get(v) for d in out)), None)
                if s:
                    c[v] = s
                    break
            else:
                try:
                    c[v] = next(free[v])
                except StopIteration:
                    raise Usage('the user CIDRs cover the whole fixture range 198.18.0.0/15 or fd00:7e57::/32')
    return out


def container_host(eps):
    """The worker host the containers are behind: the first worker pool's."""
    return next(e for e in eps if e.role in WORKERS)


def holder(eps, node):
    return next(e for e in eps if node in e.nodes)


def sctp_ports(rules, ports):
    """The ports of the set some flow mentions: where a rule that forgot its transport would let SCTP in."""
    return [p for p in ports if any(lo <= p <= hi for side in rules for fl in side.values()
                                    for _, _, rng in fl for lo, hi in rng)]


def make_probes(rules, eps, conts, ports, sctp):
    """Connection probes (expectations set) and one-way packets (expectations set). The
    containers are behind the first worker pool's host."""
    roles = [e for e in eps if e.role]
    worker = container_host(eps)
    cont, cont3 = conts[0], conts[-1]
    protos = [('tcp', ports), ('udp', UDP_PORTS), ('icmp', [0])] + \
        ([('sctp', sctp_ports(rules, ports))] if sctp else [])

    def pair(s, d, kind=None):
        return [{'src': s, 'dst': d, 'v': v, 'proto': proto, 'port': p, 'kind': kind or proto}
                for v in (4, 6) for proto, ps in protos for p in ps]
    probes = [p for s in eps + [cont, cont3] for d in eps if s is not d and (s.role or d.role or s in conts)
              for p in pair(s, d)]
    outside = []
    for node in ('other', 'clients', 'admin'):
        if holder(eps, node) not in outside:
            outside.append(holder(eps, node))
    probes += [p for s in outside for c in conts for p in pair(s, c, 'into containers')]
    between = [(cont, c) for c in conts[1:]] + [(cont3, cont)]
    probes += [p for s, d in between for p in pair(s, d, 'between containers')]
    probes += [{'src': r, 'dst': r, 'v': v, 'proto': proto, 'port': port, 'kind': 'loopback',
                'addr': '127.0.0.1' if v == 4 else '::1'}
               for r in roles for v in (4, 6) for proto, ps in (('tcp', ports), ('icmp', [0])) for port in ps]
    for p in probes:
        p['want'] = expected(rules, worker, conts, p)
    related = [{'src': s, 'dst': d, 'v': v, 'proto': 'udp', 'port': 53, 'kind': 'related', 'want': 'REFUSED'}
               for s in roles + [cont, cont3] for d in eps if 'dns' in d.nodes for v in (4, 6)]
    related = [p for p in related if expected(rules, worker, conts, p) == 'OPEN']   # allowed queries only
    other = holder(eps, 'other')
    packets = [{'src': s, 'dst': d, 'v': v, 'proto': 'icmp', 'type': t}
               for r in roles for s, d in ((r, other), (other, r)) for v in (4, 6) for t in range(256)]
    packets += [{'src': s, 'dst': d, 'v': v, 'proto': 'sctp', 'port': port}
                for s in eps for d in eps if s is not d and (s.role or d.role) for v in (4, 6) for port in ports]
    for i, k in enumerate(packets):
        k['id'], k['want'] = i, packet_want(rules, worker, conts, k)
    return probes, related, packets, outside, between


# ---------------------------------------------------------------- namespaces
_libc = ctypes.CDLL(None, use_errno=True)
HOST_NS = os.open('/proc/thread-self/ns/net', os.O_RDONLY)


def setns(fd):
    if _libc.setns(fd, 0x40000000) != 0:   # CLONE_NEWNET, for the calling thread only
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


@contextlib.contextmanager
def in_ns(ns):
    """Run the block in namespace `ns` (sockets created there stay there), then come home."""
    fd = os.open(f'/run/netns/{ns}', os.O_RDONLY)
    try:
        setns(fd)
        yield
    finally:
        os.close(fd)
        setns(HOST_NS)


def run(cmd, ns=None, stdin=None, cwd=None):
    """A command, inside namespace ns: (rc, stdout, stderr)."""
    try:
        r = subprocess.run((['ip', 'netns', 'exec', ns] if ns else []) + cmd, input=stdin,
                           capture_output=True, text=True, cwd=cwd, timeout=60)
        return r.returncode, r.stdout, r.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        return 255, '', str(e)


def must(cmd, ns=None, stdin=None):
    """A fixture command: its failure is a fixture error."""
    rc, out, err = run(cmd, ns, stdin)
    if rc:
        raise Usage(f'fixture: {" ".join(cmd)} (netns {ns}) failed rc {rc}: {err.strip()}')
    return out


def sysctl(path, value):
    """Write /proc/sys/net/PATH in the calling thread's namespace (see in_ns)."""
    with open(f'/proc/sys/net/{path}', 'w') as fh:
        fh.write(value)


def bridge_filtering(ns):
    """Whether bridged IPv4 and IPv6 traffic meets iptables/nftables in ns: br_netfilter, whose
    bridge-nf-call-* switches are per namespace (turned on here if off)."""
    with in_ns(ns):
        try:
            for f in ('bridge/bridge-nf-call-iptables', 'bridge/bridge-nf-call-ip6tables'):
                with open(f'/proc/sys/net/{f}') as fh:
                    if fh.read().strip() != '1':
                        sysctl(f, '1')
        except OSError:
            return False
    return True


def sctp_sockets(ns):
    """None if SCTP sockets can be made in ns, else why not (the kernel's limit)."""
    with in_ns(ns):
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP).close()
            return None
        except OSError as e:
            return errno.errorcode.get(e.errno, str(e.errno))


def build(eps, conts, names):
    """Bridge, veths, addresses, routes, forwarding: a few `ip -batch` runs. Returns the containers
    kept: container2 (bridged on docker0) only where bridged traffic meets netfilter."""
    br, worker = names[0], container_host(eps)
    must(['ip', '-batch', '-'], stdin=''.join(f'netns add {n}\n' for n in names))
    for n in names:   # link-locals usable at once: a router (the worker) solicits neighbours from its
        with in_ns(n):   # link-local, and while that is tentative (DAD, 1-2 s) it sends nothing
            sysctl('ipv6/conf/default/accept_dad', '0')
    if not bridge_filtering(worker.ns):
        conts = [c for c in conts if c.name != 'container2']
    cmds = [f'link add br0 netns {br} type bridge', f'link add docker0 netns {worker.ns} type bridge']
    cmds += [f'link add p{i} netns {br} type veth peer name eth0 netns {e.ns}' for i, e in enumerate(eps)]
    cmds += [f'link add {c.port} netns {worker.ns} type veth peer name eth0 netns {c.ns}' for c in conts]
    must(['ip', '-batch', '-'], stdin='\n'.join(cmds) + '\n')
    per_ns = {br: ['link set br0 up'] + [f'link set p{i} master br0 up' for i in range(len(eps))]}
    for e in eps:
        per_ns[e.ns] = ['link set lo up', 'link set eth0 up', f'addr add {e.addr[4]}/32 dev eth0',
                        f'addr add {e.addr[6]}/128 dev eth0 nodad', 'route add 0.0.0.0/0 dev eth0',
                        'route add ::/0 dev eth0']
    for node in ('other', 'clients', 'admin'):   # they reach the containers through the worker
        e = holder(eps, node)
        for net in sorted({str(c.net[v]) for c in conts for v in (4, 6)}):
            w = worker.addr[ipaddress.ip_network(net).version]
            if f'route add {net} via {w} dev eth0 onlink' not in per_ns[e.ns]:
                per_ns[e.ns].append(f'route add {net} via {w} dev eth0 onlink')
    links = {}
    for c in conts:
        links.setdefault(c.link, c)
        per_ns[c.ns] = ['link set lo up', 'link set eth0 up', f'addr add {c.addr[4]}/24 dev eth0',
                        f'addr add {c.addr[6]}/64 dev eth0 nodad',
                        f'route add 0.0.0.0/0 via {c.gw[4]}', f'route add ::/0 via {c.gw[6]}']
    per_ns[worker.ns] += ['link set docker0 up'] + [f'link set {c.port} master docker0 up' for c in conts
                                                    if c.port != c.link]
    for link, c in links.items():
        per_ns[worker.ns] += [f'link set {link} up', f'addr add {c.gw[4]}/24 dev {link}',
                              f'addr add {c.gw[6]}/64 dev {link} nodad']
    procs = [(ns, subprocess.Popen(['ip', '-n', ns, '-batch', '-'], stdin=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)) for ns in per_ns]
    for ns, p in procs:
        _, err = p.communicate('\n'.join(per_ns[ns]) + '\n', timeout=30)
        if p.returncode:
            raise Usage(f'fixture: ip -n {ns} -batch failed: {err.strip()}')
    for e in eps + conts:   # /proc/sys/net is the opening thread's namespace
        with in_ns(e.ns):
            sysctl('ipv4/ping_group_range', '0 2147483647')   # ICMP echo from ping sockets
            for v in (4, 6):   # bursts of one-way packets wait for ARP/ND without overflowing
                sysctl(f'ipv{v}/neigh/eth0/unres_qlen_bytes', str(1 << 23))
            if e is worker:
                for f in ('ipv4/ip_forward', 'ipv6/conf/all/forwarding'):
                    sysctl(f, '1')
    return conts


def docker_like(v, conts, vip):
    """What Docker and kube-proxy leave in a host's ruleset (iptables-restore input). Docker's
    chains accept every new connection into a container (every port published, no isolation
    between networks): only topogen's rules may keep them out."""
    rej, lo, host = ('icmp', '127.0.0.0/8', 32) if v == 4 else ('icmp6', '::1/128', 128)
    links = list(dict.fromkeys(c.link for c in conts))
    nets = list(dict.fromkeys((c.link, c.net[v]) for c in conts))
    nl = '\n'
    return f"""*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d {lo} -m addrtype --dst-type LOCAL -j DOCKER
{nl.join(f'-A POSTROUTING -s {net} ! -o {link} -j MASQUERADE' for link, net in nets)}
{nl.join(f'-A DOCKER -i {link} -j RETURN' for link in links)}
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -j DOCKER-USER
{nl.join(f'''-A FORWARD -o {link} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o {link} -j DOCKER
-A FORWARD -i {link} ! -o {link} -j ACCEPT
-A FORWARD -i {link} -o {link} -j ACCEPT''' for link in links)}
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
{nl.join(f'-A DOCKER -d {c.addr[v]}/{host} ! -i {c.link} -o {c.link} -j ACCEPT' for c in conts)}
-A DOCKER-USER -j RETURN
-A KUBE-SERVICES -d {vip[v]}/{host} -p tcp -m comment --comment "default/kubernetes:https has no endpoints" \
-m tcp --dport 443 -j REJECT --reject-with {rej}-port-unreachable
COMMIT
"""


FOREIGN_NFT = """table ip docker-like {
\tchain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr type local jump docker; }
\tchain docker { iifname "docker0" return; }
}
"""


# ---------------------------------------------------------------- ruleset state
def state(ns):
    """iptables-save and ip6tables-save without counters and comment lines; `nft -s list ruleset`."""
    out = must(['sh', '-c', 'iptables-save; echo "#@@"; ip6tables-save; echo "#@@"; nft -s list ruleset'], ns)
    v4, v6, nft = out.split('#@@\n')

    def clean(t):
        return [re.sub(r' \[\d+:\d+\]$', '', ln) for ln in t.splitlines() if not ln.startswith('#')]
    return {'iptables-save': clean(v4), 'ip6tables-save': clean(v6),
            'nft list ruleset': [ln for ln in nft.splitlines() if ln.strip()]}


def strip_topogen(st):
    """The state without topogen's parts: table inet topogen, TOPOGEN-* chains and jumps to them."""
    out = {}
    for k, lines in st.items():
        keep, skip = [], None
        for ln in lines:
            if skip is not None:   # inside a dropped block, until its closing brace
                skip = None if ln == skip else skip
            elif m := re.match(r'(\s*)(?:table inet topogen|chain TOPOGEN-\S+) \{$', ln):
                skip = m[1] + '}'
            elif 'TOPOGEN-' not in ln:
                keep.append(ln)
        out[k] = keep
    return out


def diff(before, after, title):
    out = []
    for k in before:
        if before[k] != after[k]:
            d = [x for x in difflib.unified_diff(before[k], after[k], n=0, lineterm='')][2:]
            out.append(f'{title}: {k} differs: ' + '; '.join(x for x in d if not x.startswith('@@'))[:500])
    return out


def hooks(role, docker=True):
    """iptables: the built-in (or Docker's) chain -> topogen's chain it must jump to, first and once.
    The worker's forwarded traffic: from DOCKER-USER where Docker made it, else from FORWARD."""
    return {'INPUT': 'TOPOGEN-INPUT', 'OUTPUT': 'TOPOGEN-OUTPUT'} | \
        ({'DOCKER-USER' if docker else 'FORWARD': 'TOPOGEN-FORWARD'} if role in WORKERS else {})


def hook_problems(target, role, st, docker=True, when=''):
    """iptables: exactly one jump per hooked chain, as its first rule, and no other jump into a
    TOPOGEN-* chain from outside; nftables: one base chain per hook."""
    probs = []
    if target == 'iptables':
        want = hooks(role, docker)
        for fam in ('iptables-save', 'ip6tables-save'):
            rules = [ln.split() for ln in st[fam] if ln.startswith('-A ')]
            jumps = Counter((r[1], r[-1]) for r in rules
                            if r[-1].startswith('TOPOGEN-') and not r[1].startswith('TOPOGEN-'))
            if set(jumps) != set(want.items()) or set(jumps.values()) != {1}:
                probs.append(f'{when}{fam}: jumps into topogen chains {dict(jumps)}, expected one each of {want}')
            for chain, tgt in want.items():   # a bare jump (a comment on it is fine)
                first = next((ln for ln in st[fam] if ln.startswith(f'-A {chain} ')), 'none')
                if re.sub(r' -m comment --comment ("(?:[^"\\]|\\.)*"|\S+)', '', first) != f'-A {chain} -j {tgt}':
                    probs.append(f'{when}{fam}: first rule of {chain} is {first}, expected -A {chain} -j {tgt}')
    else:
        lines = st['nft list ruleset']
        i = lines.index('table inet topogen {') if 'table inet topogen {' in lines else len(lines)
        ours = lines[i:lines.index('}', i) if i < len(lines) else i]
        for hook in ('input', 'output', 'forward'):
            n = sum(f'type filter hook {hook} ' in ln for ln in ours)
            if n != (0 if hook == 'forward' and role not in WORKERS else 1):
                probs.append(f'table inet topogen has {n} base chains hooked to {hook}')
    return probs


def failed(label, cmd, rc, out, err):
    msg = ' | '.join(x.strip() for x in (err or out).strip().splitlines() if x.strip())
    return f'{label}: `{" ".join(cmd)}` failed rc {rc}: {msg[:400]}'


def ipt_script(lines):
    """One sh -e script running iptables and ip6tables commands (lines of arguments after the tool)."""
    return ['sh', '-ec', '\n'.join(f'{tool} -w {ln}' for tool in ('iptables', 'ip6tables') for ln in lines)]


def reapply_on_top(o, ns, f, role, docker, P, s1):
    """iptables: a foreign rule inserted above each jump; apply again must put each jump back on
    top, once, keep the foreign rule, and otherwise give the ruleset of the first apply."""
    intr, chains = ' '.join(INTRUDER), hooks(role, docker)
    must(ipt_script([f'-I {c} 1 {intr}' for c in chains]), ns)
    cmd = ['sh', f, 'apply']
    rc, out, err = run(cmd, ns, cwd=o.dir)
    when = f're-apply after `-I CHAIN 1 {intr}` in {", ".join(chains)}: '
    if rc:
        P.append(failed(when + 'apply', cmd, rc, out, err))
        return
    P.extend(hook_problems('iptables', role, state(ns), docker, when))
    rc, out, err = run(ipt_script([f'-D {c} {intr}' for c in chains]), ns)
    if rc:
        P.append(f'{when}the foreign rule is gone from a chain ({err.strip()[:200]})')
    P.extend(diff(s1, state(ns), when + 'the ruleset (foreign rule deleted) is not that of the first apply'))


def role_phase(o, ep, fixture, results):
    """Coexistence fixture, check, apply twice (a, b, c, e), re-apply on top; results[ep.name]
    collects findings."""
    P = []
    r = results[ep.name] = {'problems': P, 'loaded': False}
    must(['iptables-restore'], ep.ns, fixture[4])
    must(['ip6tables-restore'], ep.ns, fixture[6])
    must(['nft', '-f', '-'], ep.ns, FOREIGN_NFT)
    r['s0'] = s0 = state(ep.ns)
    f = os.path.join(o.dir, f'{ep.role}.{"sh" if o.target == "iptables" else "nft"}')
    steps = ([('check', ['sh', f, 'check']), ('apply', ['sh', f]), ('apply again', ['sh', f, 'apply'])]
             if o.target == 'iptables' else
             [('check', ['nft', '-c', '-f', f]), ('apply', ['nft', '-f', f]), ('apply again', ['nft', '-f', f])])
    for label, cmd in steps:
        rc, out, err = run(cmd, ep.ns, cwd=o.dir)
        st = state(ep.ns)
        if rc:
            P.append(failed(label, cmd, rc, out, err))
            if label != 'check':
                return   # what follows would only repeat this failure
        if label == 'check':
            P += diff(s0, st, '`check` changed the ruleset')
        elif label == 'apply':
            r['s1'], r['loaded'] = st, st != s0
            if st == s0:
                P.append('apply: the ruleset did not change (nothing loaded)')
            P += diff(s0, strip_topogen(st), 'coexistence (foreign rules changed by apply)')
            P += hook_problems(o.target, ep.role, st)
        else:
            P += diff(r['s1'], st, 'idempotence (the second apply changed the ruleset)')
    if o.target == 'iptables':
        reapply_on_top(o, ep.ns, f, ep.role, True, P, r['s1'])


def stale_lines(chains):
    """A stale chain of an older topogen, jumped to, and extra jumps to topogen's chains."""
    return [f'-N {STALE}', f'-A {STALE} -j RETURN', f'-A OUTPUT -j {STALE}', '-A INPUT -j TOPOGEN-INPUT'] + \
        (['-A FORWARD -j TOPOGEN-FORWARD'] if 'TOPOGEN-FORWARD' in chains.values() else []) + \
        ([f'-A DOCKER-USER -j {STALE}'] if 'DOCKER-USER' in chains else [])


def remove_phase(o, ep, results):
    r = results[ep.name]
    if not r['loaded']:
        return
    title = 'remove (ruleset not as before apply)'
    if o.target == 'iptables':
        must(ipt_script(stale_lines(hooks(ep.role))), ep.ns)
        title = f'remove, with a stale chain {STALE} and extra jumps to TOPOGEN-* chains added, ' \
            '(ruleset not as before apply)'
    cmd = ['sh', os.path.join(o.dir, f'{ep.role}.sh'), 'remove'] if o.target == 'iptables' else \
        ['nft', 'delete', 'table', 'inet', 'topogen']
    rc, out, err = run(cmd, ep.ns, cwd=o.dir)
    if rc:
        r['problems'].append(failed('remove', cmd, rc, out, err))
    r['problems'] += diff(r['s0'], state(ep.ns), title)


def bare_worker(o, ns, results, worker='worker'):
    """iptables: on a host without Docker (no DOCKER-USER) the worker script hooks FORWARD, once and
    first, creates no DOCKER-USER, re-applies on top, and removes cleanly."""
    P = []
    results[f'{worker} (no Docker)'] = {'problems': P}
    f = os.path.join(o.dir, f'{worker}.sh')
    chains = hooks(worker, docker=False)
    for label, cmd in (('apply', ['sh', f]), ('remove', ['sh', f, 'remove'])):
        if label == 'remove':
            must(ipt_script(stale_lines(chains)), ns)
        rc, out, err = run(cmd, ns, cwd=o.dir)
        if rc:
            P.append(failed(f'{label} without Docker', cmd, rc, out, err))
            if label == 'apply':
                return
        st = state(ns)
        if any('DOCKER-USER' in ln for ln in st['iptables-save'] + st['ip6tables-save']):
            P.append(f'{label} without Docker created a DOCKER-USER chain')
        if label == 'apply':
            P.extend(hook_problems('iptables', worker, st, docker=False, when='without Docker: '))
            reapply_on_top(o, ns, f, worker, False, P, st)
        elif any('TOPOGEN' in ln for v in st.values() for ln in v):
            P.append(f'remove without Docker (with a stale chain {STALE} and extra jumps added) '
                     'left topogen rules behind')


# ---------------------------------------------------------------- listeners and probes
def listen(eps, conts, ports, sel, sctp=()):
    """Listeners in every endpoint and container; raw sockets (one-way packets) in every endpoint.
    Returns all sockets, the UDP 53 sockets per endpoint name, and the raw sockets per (ns, v, proto)."""
    socks, udp53, raws = [], defaultdict(list), {}
    for e in eps + conts:
        with in_ns(e.ns):
            for p in ports:
                s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(('::', p))
                s.listen(256)
                socks.append(s)
                sel.register(s, selectors.EVENT_READ, ('accept', f'{e.name} tcp {p}\n'.encode()))
            for v, fam in ((4, socket.AF_INET), (6, socket.AF_INET6)):
                for p in UDP_PORTS:
                    s = socket.socket(fam, socket.SOCK_DGRAM)
                    s.bind((str(e.addr[v]), p))
                    socks.append(s)
                    sel.register(s, selectors.EVENT_READ, ('udp', f'{e.name} udp {p}\n'.encode()))
                    if p == 53:
                        udp53[e.name].append(s)
                for p in sctp:
                    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_SCTP)
                    if v == 6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((str(e.addr[v]), p))
                    s.listen(256)
                    socks.append(s)
                    sel.register(s, selectors.EVENT_READ, ('accept', f'{e.name} sctp {p}\n'.encode()))
                for proto, num in (('icmp', socket.IPPROTO_ICMP if v == 4 else socket.IPPROTO_ICMPV6),
                                   ('sctp', IPPROTO_SCTP)) if e in eps else ():
                    s = raws[(e.ns, v, proto)] = socket.socket(fam, socket.SOCK_RAW, num)
                    s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 1 << 24)
                    socks.append(s)
                    sel.register(s, selectors.EVENT_READ, ('raw', (e, v, proto)))
    for s in socks:
        s.setblocking(False)
    return socks, udp53, raws


def classify(e):
    return {errno.ECONNREFUSED: 'REFUSED',
            errno.EPERM: 'FILTERED'}.get(e, f'ERROR ({errno.errorcode.get(e, e)})')   # EPERM: own OUTPUT dropped it


def inet_checksum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def _crc_table():
    t = []
    for i in range(256):
        for _ in range(8):
            i = (i >> 1) ^ (0x82F63B78 if i & 1 else 0)
        t.append(i)
    return t


CRC32C = _crc_table()


def crc32c(b):
    c = 0xffffffff
    for x in b:
        c = CRC32C[(c ^ x) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


def echo_request(v):
    """For a ping socket: the kernel sets the identifier and the checksum."""
    return struct.pack('!BBHHH', 8 if v == 4 else 128, 0, 0, 0, 1) + ECHO_DATA


def icmp_message(v, t, i):
    """ICMP(v6) type t, code 0, packet id i in the 4 bytes after the checksum (its low 16 bits first:
    an echo's identifier, which conntrack keys on, differs per packet), then MAGIC. ICMPv6: the
    kernel computes the checksum (pseudo-header)."""
    body = struct.pack('!HH', i & 0xffff, i >> 16) + MAGIC
    return struct.pack('!BBH', t, 0, inet_checksum(struct.pack('!BBH', t, 0, 0) + body) if v == 4 else 0) + body


def sctp_init(dport, tag):
    """An SCTP packet with one INIT chunk, initiate tag and initial TSN `tag`, CRC32c as the kernel checks it."""
    pkt = struct.pack('!HHII', SCTP_SPORT, dport, 0, 0) + struct.pack('!BBHIIHHI', 1, 0, 20, tag, 65536, 1, 1, tag)
    return pkt[:8] + struct.pack('<I', crc32c(pkt)) + pkt[12:]


def send_packets(packets, raws):
    """One-way packets from their sources' raw sockets; EPERM: the source's OUTPUT dropped it."""
    for k in packets:
        v, s = k['v'], raws[(k['src'].ns, k['v'], k['proto'])]
        k['got'] = None
        if k['proto'] == 'icmp':
            data = icmp_message(v, k['type'], k['id'])
            if v == 6:   # ND and redirects as on the wire, MLD link-scoped
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS,
                             255 if 133 <= k['type'] <= 137 else 1 if k['type'] in ND_MLD else 64)
        else:
            data = sctp_init(k['port'], k['id'] + 1)
        for _ in range(2000):
            try:
                s.sendto(data, (str(k['dst'].addr[v]), 0))
                break
            except BlockingIOError:
                time.sleep(0.0005)
            except OSError as e:
                k['got'] = 'DROPPED' if e.errno == errno.EPERM else f'ERROR ({errno.errorcode.get(e.errno, e.errno)})'
                break
        else:
            k['got'] = 'ERROR (send buffer stayed full)'


def note_raw(ep, v, proto, data, addr, byid):
    """A packet a raw socket in ep saw (after ep's INPUT): mark the one-way packet it is, if any."""
    if v == 4:
        data = data[(data[0] & 15) * 4:]
    if proto == 'icmp':
        if data[8:8 + len(MAGIC)] != MAGIC:
            return
        lo, hi = struct.unpack('!HH', data[4:8])
        i, what = hi << 16 | lo, data[0]
    else:
        if len(data) < 32 or data[12] != 1 or struct.unpack('!H', data[:2])[0] != SCTP_SPORT:
            return
        i, what = struct.unpack('!I', data[16:20])[0] - 1, struct.unpack('!H', data[2:4])[0]
    k = byid.get(i)
    if k and k['dst'] is ep and k['v'] == v and k['proto'] == proto and what == k.get('type', k.get('port')) \
            and ipaddress.ip_address(addr[0].split('%')[0]) == k['src'].addr[v]:
        k['got'] = 'DELIVERED'


def dst_addr(p):
    return p.get('addr') or str(p['dst'].addr[p['v']])


def run_probes(probes, sel, timeout=DENY_TIMEOUT, packets=(), raws=None):
    """Start every probe, send every one-way packet, serve listeners and probes in one loop; sets
    p['got'] and k['got']."""
    def finish(p, got, registered=True):
        p['got'] = got
        if registered:
            sel.unregister(p['sock'])
        p['sock'].close()
        return 1

    by_src, pending = defaultdict(list), 0
    for p in probes:
        by_src[p['src'].ns].append(p)
        p.pop('connected', None)
    for ns, ps in by_src.items():
        with in_ns(ns):
            for p in ps:
                v, proto = p['v'], p['proto']
                typ, num = {'tcp': (socket.SOCK_STREAM, 0), 'sctp': (socket.SOCK_STREAM, IPPROTO_SCTP),
                            'udp': (socket.SOCK_DGRAM, 0),   # icmp: a ping socket
                            'icmp': (socket.SOCK_DGRAM, socket.IPPROTO_ICMP if v == 4 else socket.IPPROTO_ICMPV6),
                            }[proto]
                s = p['sock'] = socket.socket(socket.AF_INET if v == 4 else socket.AF_INET6, typ, num)
                s.setblocking(False)
                p['deadline'] = time.monotonic() + timeout
                rc = s.connect_ex((dst_addr(p), p['port']))
                if typ == socket.SOCK_DGRAM and rc == 0:
                    try:
                        s.send(echo_request(v) if proto == 'icmp' else b'probe\n')
                        rc = errno.EINPROGRESS
                    except OSError as e:
                        rc = e.errno
                elif rc == 0:   # a stream connected at once: wait for the banner
                    p['connected'], rc = True, errno.EINPROGRESS
                if rc == errno.EINPROGRESS:
                    sel.register(s, selectors.EVENT_WRITE if typ == socket.SOCK_STREAM and not p.get('connected')
                                 else selectors.EVENT_READ, ('probe', p))
                    pending += 1
                else:
                    finish(p, classify(rc), registered=False)
    byid = {k['id']: k for k in packets}
    if packets:
        send_packets(packets, raws)
    raw_until = time.monotonic() + RAW_WAIT if packets else 0
    while pending or time.monotonic() < raw_until:
        now = time.monotonic()
        for key, ev in sel.select(timeout=0.02):
            kind, d = key.data
            try:
                if kind == 'accept':
                    while True:
                        c, _ = key.fileobj.accept()
                        with c:
                            c.send(d)
                elif kind == 'udp':
                    while True:
                        _, peer = key.fileobj.recvfrom(512)
                        key.fileobj.sendto(d, peer)
                elif kind == 'raw':
                    while True:
                        data, peer = key.fileobj.recvfrom(4096)
                        note_raw(*d, data, peer, byid)
            except OSError:   # BlockingIOError: all served; anything else the probe will show
                pass
            if kind != 'probe':
                continue
            if ev & selectors.EVENT_WRITE and d['proto'] in ('tcp', 'sctp'):   # connect finished: wait for the banner
                err = d['sock'].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    pending -= finish(d, classify(err))
                else:
                    d['connected'] = True
                    sel.modify(d['sock'], selectors.EVENT_READ, key.data)
                continue
            try:
                data = d['sock'].recv(512)
            except OSError as e:
                pending -= finish(d, classify(e.errno))
                continue
            if d['proto'] == 'icmp':
                ok = data[:1] == bytes([0 if d['v'] == 4 else 129]) and data[8:] == ECHO_DATA
                pending -= finish(d, 'OPEN' if ok else f'ERROR (echo answer {data!r})')
                continue
            want = f'{d["dst"].name} {d["proto"]} {d["port"]}\n'.encode()
            pending -= finish(d, 'OPEN' if data == want else f'ERROR (answer {data!r}, not {want!r})')
        for p in [k.data[1] for k in list(sel.get_map().values()) if k.data[0] == 'probe']:
            if p['deadline'] < now:
                pending -= finish(p, 'HALF-OPEN' if p.get('connected') else 'FILTERED')
    for k in packets:
        k['got'] = k['got'] or 'DROPPED'


def control(outside, conts, between, sel):
    """Before any rule: the containers are reachable through the worker, and from each other."""
    ctl = [{'src': s, 'dst': d, 'v': v, 'proto': 'tcp', 'port': HTTP_PORT}
           for s, d in [(s, c) for s in outside for c in conts] + between for v in (4, 6)]
    run_probes(ctl, sel, timeout=5)
    bad = [f'{p["src"].name} -> {p["dst"].name} ({p["dst"].addr[p["v"]]}) {HTTP_PORT}/tcp: {p["got"]}'
           for p in ctl if p['got'] != 'OPEN']
    if bad:
        raise Usage('fixture: before any rule is loaded, the containers must be reachable through the worker: '
                    + '; '.join(bad))


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description='iptables/nftables host firewall oracle (network namespaces)')
    ap.add_argument('--target', required=True, choices=['iptables', 'nftables'])
    ap.add_argument('--dir', required=True, help='the directory with <role>.sh (iptables) or <role>.nft (nftables)')
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--args-file')
    g.add_argument('--args', dest='args_string', help='the topogen arguments as one string')
    ap.add_argument('-v', '--verbose', action='store_true', help='print the endpoints, every probe and packet')
    argv = sys.argv[1:]   # let `--args "--with-sqs ..."` through although its value starts with "--"
    if '--args' in argv[:-1]:
        i = argv.index('--args')
        argv[i:i + 2] = ['--args=' + argv[i + 1]]
    o = ap.parse_args(argv)
    try:   # args file: blank and '#' lines ignored, the others split on whitespace
        if o.args_file and o.args_file.endswith(('.yaml', '.yml', '.json')):   # a topology file
            targs = ['--topology', o.args_file]
        elif o.args_file:
            with open(o.args_file) as f:
                targs = [t for ln in f if not ln.lstrip().startswith('#') for t in ln.split()]
        else:
            targs = o.args_string.split()
    except OSError as e:
        raise Usage(str(e))
    a = parse_topogen_args(targs)
    global UDP_PORTS
    WORKERS.clear()
    WORKERS.update(a.workers)
    UDP_PORTS = tuple(sorted(set(UDP_PORTS) | {lo for _, _, rs in a.extra for proto, (lo, hi) in rs if proto == 'udp'}
                             | {hi for _, _, rs in a.extra for proto, (lo, hi) in rs if proto == 'udp'}))
    o.dir = os.path.abspath(o.dir)
    ext = 'sh' if o.target == 'iptables' else 'nft'
    missing = [f'{r}.{ext}' for r in a.roles if not os.path.isfile(os.path.join(o.dir, f'{r}.{ext}'))]
    if missing:
        raise Usage(f'missing in {o.dir}: {", ".join(missing)}')
    if os.geteuid() != 0:
        raise Usage('must run as root (network namespaces, netfilter)')
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)

    t0, pid = time.monotonic(), os.getpid()
    eps, conts, vip = plan(a, pid)
    roles = [e for e in eps if e.role]
    rules, ports = host_rules(a), port_set(a)
    bare = f'nso{pid}-bare' if o.target == 'iptables' else None
    names = [f'nso{pid}-br'] + [e.ns for e in eps] + [c.ns for c in conts] + ([bare] if bare else [])
    socks, sel, results, built, notes = [], selectors.DefaultSelector(), {}, False, []
    try:
        built = True
        kept = build(eps, conts, names)
        if len(kept) < len(conts):
            notes.append('br_netfilter is unavailable in the worker namespace: bridged traffic cannot be filtered '
                         'here, so container2 (beside container on docker0) is left out; container3, routed through '
                         'the worker, still covers container-to-container')
        conts = kept
        no_sctp = sctp_sockets(eps[0].ns)
        if no_sctp:
            notes.append(f'SCTP sockets are unavailable in this kernel ({no_sctp}): the SCTP connect probes are '
                         'skipped (0 run); SCTP is judged by one-way INIT packets only')
        probes, related, packets, outside, between = make_probes(rules, eps, conts, ports, not no_sctp)
        socks, udp53, raws = listen(eps, conts, ports, sel, () if no_sctp else sctp_ports(rules, ports))
        control(outside, conts, between, sel)
        t_setup = time.monotonic()
        fixture = {v: docker_like(v, conts, vip) for v in (4, 6)}
        with ThreadPoolExecutor(len(roles) + 1) as pool:   # the four roles load side by side
            futs = [pool.submit(role_phase, o, e, fixture, results) for e in roles]
            for f in futs + ([pool.submit(bare_worker, o, bare, results, a.workers[0])] if bare else []):
                f.result()   # a fixture error raises Usage here
        t_rules = time.monotonic()
        # All in flight at once where the open-file limit allows (it is raised to the hard limit);
        # in batches otherwise.
        room = max(256, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - len(os.listdir('/proc/self/fd')) - 256)
        for i in range(0, len(probes), room):
            run_probes(probes[i:i + room], sel, packets=packets if i == 0 else (), raws=raws)
        # On a loaded machine an allowed connection can miss the short deny timeout: probes
        # expected open that were not are tried once more, alone, with a generous timeout (and
        # one-way packets expected through, sent again). A real drop stays dropped; nothing
        # expected dropped is retried.
        again = [p for p in probes if p['want'] == 'OPEN' and p['got'] in ('FILTERED', 'HALF-OPEN')]
        again_k = [k for k in packets if k['want'] == 'DELIVERED' and k['got'] == 'DROPPED']
        for i in range(0, max(len(again), 1) if again or again_k else 0, room):
            run_probes(again[i:i + room], sel, timeout=5 * DENY_TIMEOUT, packets=again_k if i == 0 else (), raws=raws)
        # RELATED: no UDP listener at the dns addresses any more, so each allowed query there is
        # answered by an ICMP(v6) port unreachable, which must come back in as RELATED.
        for e in {p['dst'] for p in related}:
            for s in udp53[e.name]:
                sel.unregister(s)
                s.close()
        run_probes(related, sel)
        again = [p for p in related if p['got'] in ('FILTERED', 'HALF-OPEN')]
        if again:
            run_probes(again, sel, timeout=5 * DENY_TIMEOUT)
        t_probes = time.monotonic()
        with ThreadPoolExecutor(len(roles)) as pool:
            for f in [pool.submit(remove_phase, o, e, results) for e in roles]:
                f.result()
    finally:
        setns(HOST_NS)
        for s in socks:
            s.close()
        if built:   # -force: go on past namespaces a failed build never created
            subprocess.run(['ip', '-force', '-batch', '-'], input=''.join(f'netns del {n}\n' for n in names),
                           text=True, capture_output=True)
    t_end = time.monotonic()

    def ep_str(e, v=None):
        return '/'.join(e.nodes) + (f' ({e.addr[v]})' if v else f' ({e.addr[4]}, {e.addr[6]})')

    def probe_str(p):
        what = f'{"icmp" if p["v"] == 4 else "icmpv6"} echo' if p['proto'] == 'icmp' else f'{p["port"]}/{p["proto"]}'
        dst = f'{"/".join(p["dst"].nodes)} ({p["addr"]})' if 'addr' in p else ep_str(p['dst'], p['v'])
        kind = f' ({p["kind"]})' if p['kind'] != p['proto'] else ''
        hint = ' (the ICMP port unreachable was dropped: RELATED not accepted)' \
            if p['kind'] == 'related' and p['got'] == 'FILTERED' else ''
        return f'{ep_str(p["src"], p["v"])} -> {dst} {what}{kind}: expected {p["want"]}, got {p["got"]}{hint}'

    def packet_str(k):
        what = (f'{"icmp" if k["v"] == 4 else "icmpv6"} type {k["type"]}' if k['proto'] == 'icmp'
                else f'sctp INIT to port {k["port"]}')
        return f'{ep_str(k["src"], k["v"])} -> {ep_str(k["dst"], k["v"])} {what} (one-way): ' \
            f'expected {k["want"]}, got {k["got"]}'

    allp = probes + related
    if o.verbose:
        print('endpoints: ' + '; '.join(ep_str(e) for e in eps + conts))
        for p in allp:
            print(f'  {"ok      " if p["got"] == p["want"] else "MISMATCH"} {probe_str(p)}')
        for k in packets:
            print(f'  {"ok      " if k["got"] == k["want"] else "MISMATCH"} {packet_str(k)}')
    judged = ('OPEN', 'FILTERED', 'HALF-OPEN')
    broken = [p for p in allp if p['got'] not in judged and p['got'] != p['want']]
    wrong = [p for p in allp if p['got'] in judged and p['got'] != p['want']]
    k_broken = [k for k in packets if k['got'] not in ('DELIVERED', 'DROPPED')]
    k_wrong = [k for k in packets if k['got'] in ('DELIVERED', 'DROPPED') and k['got'] != k['want']]
    problems = [f'{name}: {x}' for name, r in sorted(results.items()) for x in r['problems']]
    for x in notes:
        print(f'  NOTE     {x}')
    for p in broken:
        print(f'  FIXTURE  {probe_str(p)}' + (' (a listener missing, or the rules REJECT instead of DROP)'
                                              if p['got'] == 'REFUSED' else ''))
    for k in k_broken:
        print(f'  FIXTURE  {packet_str(k)}')
    for x in problems:
        print(f'  FAIL     {x}')
    for p in wrong:
        print(f'  MISMATCH {probe_str(p)}')
    for k in k_wrong[:60]:
        print(f'  MISMATCH {packet_str(k)}')
    if len(k_wrong) > 60:
        print(f'  MISMATCH ... and {len(k_wrong) - 60} more one-way packets (-v lists them all)')
    n_open, n_ref = (sum(p['want'] == w for p in allp) for w in ('OPEN', 'REFUSED'))
    kinds = Counter(p['kind'] for p in allp)
    label = {'icmp': 'icmp echo', 'sctp': 'sctp' + (' (no SCTP sockets here)' if no_sctp else '')}
    n_del = sum(k['want'] == 'DELIVERED' for k in packets)
    pk = Counter('sctp init' if k['proto'] == 'sctp' else f'icmp{"v6" if k["v"] == 6 else ""} types' for k in packets)
    head = (f'netns oracle ({o.target}): {len(roles)} hosts, {len(allp)} probes ({n_open} open, '
            f'{len(allp) - n_open - n_ref} dropped, {n_ref} refused as RELATED; '
            + ', '.join(f'{label.get(k, k)} {kinds[k]}' for k in KINDS)
            + f'), {len(packets)} one-way packets ({n_del} through, {len(packets) - n_del} dropped; '
            + ', '.join(f'{k} {pk[k]}' for k in ('icmp types', 'icmpv6 types', 'sctp init')) + ')')
    timing = (f'setup {t_setup - t0:.2f}s, rules {t_rules - t_setup:.2f}s, probes {t_probes - t_rules:.2f}s, '
              f'total {t_end - t0:.2f}s')
    if broken or k_broken:
        print(f'{head}: fixture error: {len(broken) + len(k_broken)} probes neither open nor dropped ({timing})')
        return 2
    if problems or wrong or k_wrong:
        print(f'{head}: {len(wrong) + len(k_wrong)} mismatches, {len(problems)} ruleset problems ({timing})')
        return 1
    print(f'{head}, idempotent, {"re-hooked on top, " if o.target == "iptables" else ""}coexisting, '
          f'removed cleanly: all as expected ({timing})')
    return 0


def _terminate(signum, frame):
    raise SystemExit(128 + signum)   # unwinds through main's finally: the namespaces are deleted


if __name__ == '__main__':
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, _terminate)
    try:
        sys.exit(main())
    except Usage as e:
        print(f'netns oracle: error: {e}', file=sys.stderr)
        sys.exit(2)
