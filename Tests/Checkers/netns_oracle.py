#!/usr/bin/env python3
"""Independent oracle for topogen's host firewalls (iptables, nftables), judged by a real kernel.

    .venv/bin/python3 Tests/Checkers/netns_oracle.py --target iptables|nftables --dir DIR
                      (--args-file examples/NAME.args | --args "...") [-v]

Run as root. It parses the topogen arguments itself (own argparse, as k8s_oracle.py), loads
DIR/<role>.sh or DIR/<role>.nft of the roles server, drain, scheduler, worker into network
namespaces and proves in one run: (a) each ruleset loads for real; (b) applying twice changes
nothing, one jump per hooked chain; (c) Docker/kube-proxy-like chains and a foreign nft table
survive apply and removal; (d) removal restores the ruleset exactly; (e) `sh R.sh check` (nft -c -f)
passes and changes nothing; and each probe is OPEN or FILTERED exactly as spec/flows.md implies
(the model below is independent of topogen), (f) container traffic forwarded by the worker included.
Exit 0: all as expected; 1: mismatches (listed); 2: usage or fixture error. A REFUSED probe (a
listener missing, or rules that REJECT instead of DROP) is a fixture error, never "denied".

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
- `container` behind the worker: veth `docker0` (IPv4, IPv6), forwarding, Docker-like MASQUERADE,
  filter FORWARD policy DROP with `-j DOCKER-USER` first.
- Listeners are sockets of this process made in each namespace with setns(2) (nothing to leak):
  TCP on every port of the set (dual-stack), UDP 53 per address; each answers "<endpoint> <proto>
  <port>", which the probe checks (a reply from the wrong namespace is a fixture error).
- Probes, all in flight at once: every ordered pair of endpoints with a role host at one end, and
  container -> every endpoint; every port of the set; IPv4 and IPv6. TCP: banner = OPEN, nothing
  in 0.7 s = FILTERED, RST = REFUSED, connected but no banner = HALF-OPEN (a mismatch). UDP 53:
  reply = OPEN; silence, or EPERM from the sender's own OUTPUT = FILTERED.
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
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

ROLES = ('server', 'drain', 'scheduler', 'worker')
EXTERNAL = 'lb clients postgres object-storage vcs container-registry infrastructure sqs iot-core kms dns'.split()
NODES = ROLES + tuple(EXTERNAL)
HTTP_PORT = 1983
DENY_TIMEOUT = 0.7
ANY = (ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_network('::/0'))
FRESH = {4: ipaddress.ip_network('198.18.0.0/15'), 6: ipaddress.ip_network('fd00:7e57::/32')}


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
    if not sep or node not in NODES or not lst:
        raise argparse.ArgumentTypeError(f'expected NODE=CIDR[,CIDR...], NODE one of {", ".join(NODES)}: {s!r}')
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
    a = p.parse_args(argv)
    if a.with_iot_core and not a.with_sqs:
        raise Usage('topogen args: --with-iot-core requires --with-sqs')
    if a.mqtt_port == HTTP_PORT:
        raise Usage(f'topogen args: the MQTT port may not be the HTTP port {HTTP_PORT}')
    a.infra_ports = sorted(set(a.infrastructure_port or [(443, 443)]))
    a.ssh = [n for lst in a.allow_ssh_from for n in lst]
    a.cidrs = defaultdict(list)   # node -> [ip_network]; lists of a repeated node merge
    for node, ns in a.cidr:
        a.cidrs[node] += ns
    return a


# ---------------------------------------------------------------- expected behaviour (flows.md)
def nets_of(a, node):
    return a.cidrs.get(node) or ANY   # no --cidr: any, both families


def covers(ns, addr):
    return any(n.version == addr.version and addr in n for n in ns)   # v4 CIDRs never match v6


def host_rules(a):
    """(egress, ingress) per role, each a list of (nets, proto, [(lo, hi)]): flows.md on hosts."""
    def tcp(node, *ports):
        return nets_of(a, node), 'tcp', [p if isinstance(p, tuple) else (p, p) for p in ports]

    def when(on, node):
        return [tcp(node, 443)] if on else []
    dns = [(nets_of(a, 'dns'), 'udp', [(53, 53)]), tcp('dns', 53)]
    pg, pull = tcp('postgres', a.postgres_port), tcp('container-registry', 443)   # pull: <component>-image-pull
    backend = [pg, tcp('object-storage', 443), tcp('vcs', 443)] + when(a.with_sqs, 'sqs') + \
        when(a.with_iot_core, 'iot-core') + when(a.with_kms, 'kms') + [pull] + dns
    egress = {'server': backend, 'drain': backend,
              'scheduler': [pg] + when(a.with_sqs, 'sqs') + [pull] + dns,
              'worker': [tcp('lb', 443), tcp('iot-core', 443) if a.with_iot_core else tcp('lb', a.mqtt_port),
                         tcp('object-storage', 443), tcp('vcs', 443), pull,
                         tcp('infrastructure', *a.infra_ports)] + dns}
    ingress = {r: [(a.ssh, 'tcp', [(22, 22)])] for r in ROLES}
    ingress['server'] += [tcp('lb', HTTP_PORT)] + ([] if a.with_iot_core else [tcp('lb', a.mqtt_port)])
    return egress, ingress


def permits(rules, addr, proto, port):
    return any(p == proto and covers(ns, addr) and any(lo <= port <= hi for lo, hi in ports) for ns, p, ports in rules)


def port_set(a):
    """Every port a flow mentions and some that nothing allows; range edges and their neighbours."""
    ports = {22, 53, 80, 443, 8080, 1983, 1984, 5432, a.postgres_port, a.mqtt_port}
    for lo, hi in a.infra_ports:
        ports |= {lo, hi, (lo + hi) // 2, max(lo - 1, 1), min(hi + 1, 65535)}
    return sorted(ports)


def expected(rules, worker, cont, p):
    """OPEN iff the source's egress (a role's OUTPUT; for the container the worker's FORWARD, the
    worker masquerading it) and the destination role's INPUT both allow it."""
    egress, ingress = rules
    src, dst, v, proto, port = p['src'], p['dst'], p['v'], p['proto'], p['port']
    seen_from, ok = src.addr[v], True
    if src.role:
        ok = permits(egress[src.role], dst.addr[v], proto, port)
    elif src is cont and dst is not worker:
        ok, seen_from = permits(egress['worker'], dst.addr[v], proto, port), worker.addr[v]
    if dst.role:
        ok = ok and permits(ingress[dst.role], seen_from, proto, port)
    return 'OPEN' if ok else 'FILTERED'


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
        fresh_net, cnet = [{v: next(free[v]) for v in (4, 6)} for _ in 'ab']   # endpoints', the container's
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

    for name in NODES + ('admin', 'other'):
        ns = a.ssh if name == 'admin' else a.cidrs.get(name, [])
        got = {v: own(ns, v) for v in (4, 6)}
        holder = next((x for x in got.values() if isinstance(x, Ep)), None)
        if holder and name not in ROLES:
            holder.nodes.append(name)
            continue
        ep = Ep(name, f'nso{pid}-{name}', name if name in ROLES else None)
        for v in (4, 6):
            ep.addr[v] = got[v] if got[v] and not isinstance(got[v], Ep) else next(fresh[v])
            taken[ep.addr[v]] = ep
        eps.append(ep)
    cont = Ep('container', f'nso{pid}-container')
    cont.net, cont.gw, cont.addr = cnet, {v: cnet[v][1] for v in (4, 6)}, {v: cnet[v][2] for v in (4, 6)}
    vip = {v: next(fresh[v]) for v in (4, 6)}   # a kube-proxy service address nobody probes
    return eps, cont, vip


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


def build(eps, cont, names):
    """Bridge, veths, addresses, routes, forwarding: a few `ip -batch` runs."""
    br, worker = names[0], next(e for e in eps if e.role == 'worker')
    must(['ip', '-batch', '-'], stdin=''.join(f'netns add {n}\n' for n in names))
    cmds = [f'link add br0 netns {br} type bridge']   # veths are created directly in their namespaces
    cmds += [f'link add p{i} netns {br} type veth peer name eth0 netns {e.ns}' for i, e in enumerate(eps)]
    cmds += [f'link add docker0 netns {worker.ns} type veth peer name eth0 netns {cont.ns}']
    must(['ip', '-batch', '-'], stdin='\n'.join(cmds) + '\n')
    per_ns = {br: ['link set br0 up'] + [f'link set p{i} master br0 up' for i in range(len(eps))]}
    for e in eps:
        per_ns[e.ns] = ['link set lo up', 'link set eth0 up', f'addr add {e.addr[4]}/32 dev eth0',
                        f'addr add {e.addr[6]}/128 dev eth0 nodad', 'route add 0.0.0.0/0 dev eth0',
                        'route add ::/0 dev eth0']
    per_ns[worker.ns] += ['link set docker0 up', f'addr add {cont.gw[4]}/24 dev docker0',
                          f'addr add {cont.gw[6]}/64 dev docker0 nodad']
    per_ns[cont.ns] = ['link set lo up', 'link set eth0 up', f'addr add {cont.addr[4]}/24 dev eth0',
                       f'addr add {cont.addr[6]}/64 dev eth0 nodad',
                       f'route add 0.0.0.0/0 via {cont.gw[4]}', f'route add ::/0 via {cont.gw[6]}']
    procs = [(ns, subprocess.Popen(['ip', '-n', ns, '-batch', '-'], stdin=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)) for ns in per_ns]
    for ns, p in procs:
        _, err = p.communicate('\n'.join(per_ns[ns]) + '\n', timeout=30)
        if p.returncode:
            raise Usage(f'fixture: ip -n {ns} -batch failed: {err.strip()}')
    with in_ns(worker.ns):   # /proc/sys/net is the opening thread's namespace
        for f in ('ipv4/ip_forward', 'ipv6/conf/all/forwarding'):
            with open(f'/proc/sys/net/{f}', 'w') as fh:
                fh.write('1')


def docker_like(v, cont, vip):
    """What Docker and kube-proxy leave in a host's ruleset (iptables-restore input)."""
    rej, lo, host = ('icmp', '127.0.0.0/8', 32) if v == 4 else ('icmp6', '::1/128', 128)
    return f"""*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d {lo} -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s {cont.net[v]} ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
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
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A DOCKER -d {cont.addr[v]}/{host} ! -i docker0 -o docker0 -p tcp -m tcp --dport 8080 -j ACCEPT
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


def hook_problems(target, role, st):
    """iptables: exactly one jump per hooked chain, as its first rule; nftables: one base chain per hook."""
    probs = []
    if target == 'iptables':
        want = {'INPUT': 'TOPOGEN-INPUT', 'OUTPUT': 'TOPOGEN-OUTPUT'} | \
            ({'DOCKER-USER': 'TOPOGEN-FORWARD'} if role == 'worker' else {})
        for fam in ('iptables-save', 'ip6tables-save'):
            rules = [ln.split() for ln in st[fam] if ln.startswith('-A ')]
            jumps = Counter((r[1], r[-1]) for r in rules
                            if r[-1].startswith('TOPOGEN-') and not r[1].startswith('TOPOGEN-'))
            if set(jumps) != set(want.items()) or set(jumps.values()) != {1}:
                probs.append(f'{fam}: jumps into topogen chains {dict(jumps)}, expected one each of {want}')
            for chain, tgt in want.items():
                first = next((r for r in rules if r[1] == chain), ['none'])
                if first[-1] != tgt:
                    probs.append(f'{fam}: first rule of {chain} is {" ".join(first)}, expected -j {tgt}')
    else:
        lines = st['nft list ruleset']
        i = lines.index('table inet topogen {') if 'table inet topogen {' in lines else len(lines)
        ours = lines[i:lines.index('}', i) if i < len(lines) else i]
        for hook in ('input', 'output', 'forward'):
            n = sum(f'type filter hook {hook} ' in ln for ln in ours)
            if n != (0 if hook == 'forward' and role != 'worker' else 1):
                probs.append(f'table inet topogen has {n} base chains hooked to {hook}')
    return probs


def failed(label, cmd, rc, out, err):
    msg = ' | '.join(x.strip() for x in (err or out).strip().splitlines() if x.strip())
    return f'{label}: `{" ".join(cmd)}` failed rc {rc}: {msg[:400]}'


def role_phase(o, ep, fixture, results):
    """Coexistence fixture, check, apply twice (a, b, c, e); results[ep.name] collects findings."""
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


def remove_phase(o, ep, results):
    r = results[ep.name]
    if not r['loaded']:
        return
    cmd = ['sh', os.path.join(o.dir, f'{ep.role}.sh'), 'remove'] if o.target == 'iptables' else \
        ['nft', 'delete', 'table', 'inet', 'topogen']
    rc, out, err = run(cmd, ep.ns, cwd=o.dir)
    if rc:
        r['problems'].append(failed('remove', cmd, rc, out, err))
    r['problems'] += diff(r['s0'], state(ep.ns), 'remove (ruleset not as before apply)')


def bare_worker(o, ns, results):
    """iptables: on a host without Docker (no DOCKER-USER) the worker script applies and removes cleanly."""
    P = []
    results['worker (no Docker)'] = {'problems': P}
    f = os.path.join(o.dir, 'worker.sh')
    for label, cmd in (('apply', ['sh', f]), ('remove', ['sh', f, 'remove'])):
        rc, out, err = run(cmd, ns, cwd=o.dir)
        if rc:
            P.append(failed(f'{label} without Docker', cmd, rc, out, err))
        st = state(ns)
        if any('DOCKER-USER' in ln for ln in st['iptables-save'] + st['ip6tables-save']):
            P.append(f'{label} without Docker created a DOCKER-USER chain')
        if label == 'remove' and any('TOPOGEN' in ln for v in st.values() for ln in v):
            P.append('remove without Docker left topogen rules behind')


# ---------------------------------------------------------------- listeners and probes
def listen(eps, ports, sel):
    socks = []
    for e in eps:
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
                s = socket.socket(fam, socket.SOCK_DGRAM)
                s.bind((str(e.addr[v]), 53))
                socks.append(s)
                sel.register(s, selectors.EVENT_READ, ('udp', f'{e.name} udp 53\n'.encode()))
    for s in socks:
        s.setblocking(False)
    return socks


def classify(e):
    return {errno.ECONNREFUSED: 'REFUSED',
            errno.EPERM: 'FILTERED'}.get(e, f'ERROR ({errno.errorcode.get(e, e)})')   # EPERM: own OUTPUT dropped it


def run_probes(probes, sel, timeout=DENY_TIMEOUT):
    """Start every probe, serve listeners and probes in one loop; sets p['got']."""
    def finish(p, got, registered=True):
        p['got'] = got
        if registered:
            sel.unregister(p['sock'])
        p['sock'].close()
        return 1

    by_src, pending = defaultdict(list), 0
    for p in probes:
        by_src[p['src'].ns].append(p)
    for ns, ps in by_src.items():
        with in_ns(ns):
            for p in ps:
                s = p['sock'] = socket.socket(socket.AF_INET if p['v'] == 4 else socket.AF_INET6,
                                              socket.SOCK_STREAM if p['proto'] == 'tcp' else socket.SOCK_DGRAM)
                s.setblocking(False)
                p['deadline'] = time.monotonic() + timeout
                rc = s.connect_ex((str(p['dst'].addr[p['v']]), p['port']))
                if p['proto'] == 'udp' and rc == 0:
                    try:
                        s.send(b'probe\n')
                        rc = errno.EINPROGRESS
                    except OSError as e:
                        rc = e.errno
                if rc == errno.EINPROGRESS:
                    sel.register(s, selectors.EVENT_WRITE if p['proto'] == 'tcp' else selectors.EVENT_READ,
                                 ('probe', p))
                    pending += 1
                else:
                    finish(p, classify(rc), registered=False)
    while pending:
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
            except OSError:   # BlockingIOError: all served; anything else the probe will show
                pass
            if kind != 'probe':
                continue
            if ev & selectors.EVENT_WRITE:   # TCP connect finished: wait for the banner
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
            want = f'{d["dst"].name} {d["proto"]} {d["port"]}\n'.encode()
            pending -= finish(d, 'OPEN' if data == want else f'ERROR (answer {data!r}, not {want!r})')
        for p in [k.data[1] for k in list(sel.get_map().values()) if k.data[0] == 'probe']:
            if p['deadline'] < now:
                pending -= finish(p, 'HALF-OPEN' if p.get('connected') else 'FILTERED')


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description='iptables/nftables host firewall oracle (network namespaces)')
    ap.add_argument('--target', required=True, choices=['iptables', 'nftables'])
    ap.add_argument('--dir', required=True, help='the directory with <role>.sh (iptables) or <role>.nft (nftables)')
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--args-file')
    g.add_argument('--args', dest='args_string', help='the topogen arguments as one string')
    ap.add_argument('-v', '--verbose', action='store_true', help='print the endpoints and every probe')
    argv = sys.argv[1:]   # let `--args "--with-sqs ..."` through although its value starts with "--"
    if '--args' in argv[:-1]:
        i = argv.index('--args')
        argv[i:i + 2] = ['--args=' + argv[i + 1]]
    o = ap.parse_args(argv)
    try:   # args file: blank and '#' lines ignored, the others split on whitespace
        if o.args_file:
            with open(o.args_file) as f:
                targs = [t for ln in f if not ln.lstrip().startswith('#') for t in ln.split()]
        else:
            targs = o.args_string.split()
    except OSError as e:
        raise Usage(str(e))
    a = parse_topogen_args(targs)
    o.dir = os.path.abspath(o.dir)
    ext = 'sh' if o.target == 'iptables' else 'nft'
    missing = [f'{r}.{ext}' for r in ROLES if not os.path.isfile(os.path.join(o.dir, f'{r}.{ext}'))]
    if missing:
        raise Usage(f'missing in {o.dir}: {", ".join(missing)}')
    if os.geteuid() != 0:
        raise Usage('must run as root (network namespaces, netfilter)')
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)

    t0, pid = time.monotonic(), os.getpid()
    eps, cont, vip = plan(a, pid)
    roles = [e for e in eps if e.role]
    worker = next(e for e in roles if e.role == "worker")
    rules, ports = host_rules(a), port_set(a)
    probes = [{'src': s, 'dst': d, 'v': v, 'proto': proto, 'port': p}
              for s in eps + [cont] for d in eps if s is not d and (s.role or d.role or s is cont)
              for v in (4, 6) for proto, ps in (('tcp', ports), ('udp', [53])) for p in ps]
    for p in probes:
        p['want'] = expected(rules, worker, cont, p)

    bare = f'nso{pid}-bare' if o.target == 'iptables' else None
    names = [f'nso{pid}-br'] + [e.ns for e in eps] + [cont.ns] + ([bare] if bare else [])
    socks, sel, results, built = [], selectors.DefaultSelector(), {}, False
    try:
        built = True
        build(eps, cont, names)
        t_setup = time.monotonic()
        socks = listen(eps, ports, sel)
        fixture = {v: docker_like(v, cont, vip) for v in (4, 6)}
        with ThreadPoolExecutor(len(roles) + 1) as pool:   # the four roles load side by side
            futs = [pool.submit(role_phase, o, e, fixture, results) for e in roles]
            for f in futs + ([pool.submit(bare_worker, o, bare, results)] if bare else []):
                f.result()   # a fixture error raises Usage here
        t_rules = time.monotonic()
        run_probes(probes, sel)
        # On a loaded machine an allowed connection can miss the short deny timeout: probes
        # expected open that were not are tried once more, alone, with a generous timeout. A
        # real drop stays dropped; nothing expected dropped is retried.
        again = [p for p in probes if p['want'] == 'OPEN' and p['got'] in ('FILTERED', 'HALF-OPEN')]
        for p in again:
            p.pop('connected', None)
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
        return (f'{ep_str(p["src"], p["v"])} -> {ep_str(p["dst"], p["v"])} {p["port"]}/{p["proto"]}: '
                f'expected {p["want"]}, got {p["got"]}')

    if o.verbose:
        print('endpoints: ' + '; '.join(ep_str(e) for e in eps + [cont]))
        for p in probes:
            print(f'  {"ok      " if p["got"] == p["want"] else "MISMATCH"} {probe_str(p)}')
    judged = ('OPEN', 'FILTERED', 'HALF-OPEN')
    broken = [p for p in probes if p['got'] not in judged]
    wrong = [p for p in probes if p['got'] in judged and p['got'] != p['want']]
    problems = [f'{name}: {x}' for name, r in sorted(results.items()) for x in r['problems']]
    for p in broken:
        print(f'  FIXTURE  {probe_str(p)}' + (' (a listener missing, or the rules REJECT instead of DROP)'
                                              if p['got'] == 'REFUSED' else ''))
    for x in problems:
        print(f'  FAIL     {x}')
    for p in wrong:
        print(f'  MISMATCH {probe_str(p)}')
    n_open = sum(p['want'] == 'OPEN' for p in probes)
    head = (f'netns oracle ({o.target}): {len(roles)} hosts, {len(probes)} probes ({n_open} open, '
            f'{len(probes) - n_open} dropped)')
    timing = (f'setup {t_setup - t0:.2f}s, rules {t_rules - t_setup:.2f}s, probes {t_probes - t_rules:.2f}s, '
              f'total {t_end - t0:.2f}s')
    if broken:
        print(f'{head}: fixture error: {len(broken)} probes neither open nor dropped ({timing})')
        return 2
    if problems or wrong:
        print(f'{head}: {len(wrong)} mismatches, {len(problems)} ruleset problems ({timing})')
        return 1
    print(f'{head}, idempotent, coexisting, removed cleanly: all as expected ({timing})')
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
