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

Fixture: backend namespace (server-0, drain-0, scheduler-0, misc-0), worker namespace (worker-0,
and worker-1 so that worker-to-worker isolation is tested too), kube-system (kube-dns-0, kube-proxy-0), the
ingress namespace (ingress-controller-0; `ingress-nginx` by default) and `other` (other-0).
"Ours" = pods of the backend namespace, and of the worker namespace with in-cluster workers.
Every (source, destination) with at least one end ours is compared; foreign pods and addresses
have no policies, so their side allows everything.
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
    return a


# ---------------------------------------------------------------- fixture
class Pod:
    def __init__(self, ns, name, labels, role):
        self.ns, self.name, self.labels, self.role, self.key = ns, name, labels, role, f'{ns}/{name}'


def fixture(a):
    ing = a.ingress_namespace or 'ingress-nginx'
    other = next(n for n in ('other', 'other-1', 'other-2') if n not in (a.namespace, a.worker_namespace, ing))
    b, w, inst = a.namespace, a.worker_namespace, 'app.kubernetes.io/instance'
    run = lambda i: {'workers.spacelift.io/run-id': f'run-{i}', 'workers.spacelift.io/worker': f'w-{i}'}  # noqa: E731
    return [Pod(b, 'server-0', {NAME: 'spacelift-self-hosted', inst: 'spacelift'}, 'server'),
            Pod(b, 'drain-0', {NAME: 'spacelift-self-hosted-drain', inst: 'spacelift-drain'}, 'drain'),
            Pod(b, 'scheduler-0', {NAME: 'spacelift-self-hosted-scheduler', inst: 'spacelift-scheduler'}, 'scheduler'),
            Pod(b, 'misc-0', {'app': 'misc'}, 'misc'),
            Pod(w, 'worker-0', run(1), 'worker'), Pod(w, 'worker-1', run(2), 'worker'),
            Pod('kube-system', 'kube-dns-0', {'k8s-app': 'kube-dns'}, 'kube-dns'),
            # a second kube-system pod, so that selecting kube-dns is not selecting the namespace
            Pod('kube-system', 'kube-proxy-0', {'k8s-app': 'kube-proxy'}, 'kube-proxy'),
            Pod(ing, 'ingress-controller-0', {NAME: 'ingress-nginx'}, 'ingress'),
            Pod(other, 'other-0', {'app': 'other'}, 'other')]


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


def expected_rules(a):
    """(egress rules by role, ingress rules by role); a rule is (matcher, Conns)."""
    addrs = lambda node: a.cidrs.get(node) or ANY                 # noqa: E731
    ext = lambda node, c: (in_addrs(addrs(node)), c)              # noqa: E731
    https, mqtt = conns('TCP', 443), conns('TCP', a.mqtt_port)
    dns = ext('dns', DNS) if 'dns' in a.cidrs else \
        (pod_where(lambda p: p.ns == 'kube-system' and p.labels.get('k8s-app') == 'kube-dns'), DNS)
    pg = ext('postgres', conns('TCP', a.postgres_port))
    optional = [ext(n, https) for on, n in ((a.with_sqs, 'sqs'), (a.with_iot_core, 'iot-core'),
                                            (a.with_kms, 'kms')) if on]
    backend = [pg, ext('object-storage', https), ext('vcs', https)] + optional + [dns]
    server_pod = pod_where(lambda p: p.ns == a.namespace and p.labels.get(NAME) == 'spacelift-self-hosted')
    egress = {'server': backend, 'drain': backend,
              'scheduler': [pg] + ([ext('sqs', https)] if a.with_sqs else []) + [dns],
              'worker': [ext('lb', https), ext('iot-core', https) if a.with_iot_core else (server_pod, mqtt),
                         ext('object-storage', https), ext('vcs', https), ext('container-registry', https),
                         ext('infrastructure', conns('TCP', *a.infra_ports)), dns]}
    # The server's HTTP port: from the ingress controller's pods; else from the lb's addresses
    # (a load balancer with IP targets reaches pods from its own addresses); else from anywhere.
    if a.ingress_namespace:
        http_from = pod_where(lambda p: p.ns == a.ingress_namespace)
    elif 'lb' in a.cidrs:
        http_from = in_addrs(a.cidrs['lb'])
    else:
        http_from = lambda ep: True   # noqa: E731
    server_in = [(http_from, conns('TCP', HTTP_PORT))]
    if not a.with_iot_core:   # built-in broker
        server_in.append((pod_where(lambda p: p.ns == a.worker_namespace), mqtt) if a.workers == 'in-cluster'
                         else ext('clients', mqtt))
    return egress, {'server': server_in}


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
    try:   # args file: blank and '#' lines ignored, the others split on whitespace
        with open(o.args_file or os.devnull) as f:
            targs = [t for ln in f if not ln.lstrip().startswith('#') for t in ln.split()] \
                if o.args_file else o.args_string.split()
    except OSError as e:
        raise Usage(str(e))
    a = parse_topogen_args(targs)
    in_cluster = a.workers == 'in-cluster'
    ours_ns = {a.namespace} | ({a.worker_namespace} if in_cluster else set())
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
    addrs = lambda node: in_addrs(a.cidrs.get(node) or ANY)         # noqa: E731
    https = conns('TCP', 443)
    named = [
        # an explicit infrastructure flow may overlap postgres: only reach beyond the spec fails
        ('workers never reach postgres', reach(role('worker'), addrs('postgres'), conns('TCP', a.postgres_port),
                                               expect) if in_cluster else None),
        ('the scheduler reaches 443 only with --with-sqs (and then only SQS)',
         reach(role('scheduler'), lambda d: not ((a.with_sqs and addrs('sqs')(d)) or
                                                 (a.postgres_port == 443 and addrs('postgres')(d))), https)),
        ('nothing reaches drain, scheduler or worker pods', reach(dst=role('drain', 'scheduler', 'worker'))),
        ('nothing reaches the MQTT port with --with-iot-core',
         reach(dst=is_ours, only=conns('TCP', a.mqtt_port)) if a.with_iot_core else None),
        ('misc-0 is isolated', reach(role('misc')) + reach(dst=role('misc'))),
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
