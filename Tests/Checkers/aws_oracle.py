#!/usr/bin/env python3
"""Independent oracle for topogen's AWS security groups, judged by botocore's EC2 model and moto.

    .venv/bin/python3 Tests/Checkers/aws_oracle.py --dir DIR (--args-file F | --args "..." | --topology F)
                      [--endpoint URL] [--no-moto] [-q]

DIR holds security-groups.json and apply.sh (`topogen generate --target aws ... -o DIR`). The
topogen arguments are parsed here (own argparse, as k8s_oracle.py; unknown options are a usage
error) and the expected groups are computed from spec/flows.md, independently of topogen:
1. Shape: botocore's ParamValidator (the real EC2 model) accepts the groups as a
   DescribeSecurityGroups result, and each IpPermissions / IpPermissionsEgress as an
   AuthorizeSecurityGroupIngress / Egress request with every pair's GroupName replaced by a fake
   GroupId (what apply.sh sends: VPC groups are referenced by id). Own checks: protocol, 1 <=
   FromPort <= ToPort <= 65535, canonical CIDRs (no host bits, IPv6 lower-case compressed),
   descriptions (<= 255 of AWS's set, starting with the ids of exactly the flows of the rule),
   duplicate peers, one permission per (protocol, ports), group order, tags, VpcId, quota.
2. Model: the JSON's rules as (group, direction, protocol, ports, peer kind, peer) are the expected
   set; ports compared as sets per peer (443 and 444 equal 443-444), the exact form against moto.
3. moto: moto_server on a free loopback port (or --endpoint), a fresh VPC (with an IPv6 block when
   the JSON has IPv6 ranges: new groups then also get a ::/0 default egress), `sh apply.sh` with
   VPC_ID, AWS_ENDPOINT_URL and fake credentials (the venv's aws CLI first on PATH); the groups
   read back with boto3 must be the model and exactly the JSON (descriptions, tags). A second run:
   exit 0, empty stderr, same groups, rules and rule ids (revoke-and-reauthorize changes the ids).
   Without --vpc-id, apply.sh with VPC_ID unset must fail with a message and create nothing.
--topology F reads a topology file (YAML or JSON, docs/topology-file.md) here, with PyYAML, and
derives the same from it: one group per component (server, drain, scheduler, each pool's
worker-NAME, vcs-gateway), lb, vcs-gateway-lb with a gateway, postgres unless existing security
groups stand for it; an external node is its existing groups and prefix lists when it has any
(peer kind 'sg', referenced by GroupId), else its CIDRs; a component's flow to an external node on
exactly 443/tcp that is not a private endpoint goes to egress-proxy on the proxy's port. In moto,
the existing groups are created first (named existing-<id>) and apply.sh runs on a copy with their
ids replaced by moto's.
Quota, as AWS documents "rules per security group": per group and direction, IPv4 and IPv6
counted separately; a CIDR counts one in its family, a group reference one in both, a prefix list
its weight (--prefix-list NODE=pl-ID:ENTRIES, default 1) in both. Each count <= --max-rules.
moto 5.2.1 (probed): accepts unknown prefix-list ids, non-canonical IPv6, 300-character
descriptions; drops prefix-list descriptions (not compared); its limit is a fixed 60 per
direction counting IPv4, IPv6 and references together (beyond it: exit 2, or --no-moto).
Exit 0: as expected; 1: mismatches (listed group by group); 2: usage, bad input or engine error.
"""
import argparse
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections import defaultdict

GROUPED = ('server', 'drain', 'scheduler', 'worker', 'lb', 'postgres')   # the groups, in this order
EXTERNAL = ('clients', 'object-storage', 'vcs', 'container-registry', 'infrastructure', 'sqs', 'iot-core',
            'kms', 'dns')
NODES = GROUPED + EXTERNAL
HTTP_PORT = 1983
ANY = (ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_network('::/0'))
AWS_TEXT = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*")   # rule and group descriptions
FLOW_IDS = re.compile(r'([a-z0-9]+(?:-[a-z0-9]+)*(?:, [a-z0-9]+(?:-[a-z0-9]+)*)*)(?::|$)')
LISTS = (('IpRanges', 'CidrIp', 'ipv4'), ('Ipv6Ranges', 'CidrIpv6', 'ipv6'),
         ('PrefixListIds', 'PrefixListId', 'prefix-list'), ('UserIdGroupPairs', 'GroupName', 'group'))
FIELD = {kind: field for _, field, kind in LISTS}
DIRS = (('IpPermissions', 'ingress', 'AuthorizeSecurityGroupIngress'),
        ('IpPermissionsEgress', 'egress', 'AuthorizeSecurityGroupEgress'))
MOTO_LIMIT = 60
TOPOLOGY_SUFFIXES = ('.yaml', '.yml', '.json')   # an --args-file with these names is a topology file


class Usage(Exception):
    """Exit 2: bad arguments, unreadable input, moto or apply.sh failure."""


# ---------------------------------------------------------------- topogen arguments
def port_range(s, single=False):
    m = re.fullmatch(r'(\d+)' + ('' if single else r'(?:-(\d+))?'), s)
    lo, hi = (int(m[1]), int(m[m.lastindex] or m[1])) if m else (0, 0)
    if not 1 <= lo <= hi <= 65535:
        raise argparse.ArgumentTypeError(f'invalid {"port" if single else "port or range"} {s!r}')
    return lo if single else (lo, hi)


def nets(s):
    try:
        return [ipaddress.ip_network(c, strict=False) for c in s.split(',')]
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def node_arg(s, what):
    node, sep, value = s.partition('=')
    if not sep or node not in NODES or not value:
        raise argparse.ArgumentTypeError(f'expected NODE={what}, NODE one of {", ".join(NODES)}: {s!r}')
    return node, value


def prefix_list_arg(s):
    node, value = node_arg(s, 'pl-ID[:ENTRIES]')
    m = re.fullmatch(r'(pl-[0-9a-f]+)(?::(\d+))?', value)
    if not m or (m[2] is not None and int(m[2]) < 1):
        raise argparse.ArgumentTypeError(f'expected NODE=pl-ID[:ENTRIES], ENTRIES >= 1: {s!r}')
    return node, (m[1], int(m[2] or 1))


def matching(pattern, what, conv=str):
    def parse(s):
        if not re.fullmatch(pattern, s):
            raise argparse.ArgumentTypeError(f'expected {what}, not {s!r}')
        return conv(s)
    return parse


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(f'topogen args: {message}')


def parse_topogen_args(argv):
    if '--topology' in argv:   # an example that is a topology file: ['--topology', FILE]
        if len(argv) != 2 or argv[0] != '--topology':
            raise Usage(f'topogen args: only --topology FILE alone is modelled here, not {" ".join(argv)}')
        return parse_topology_file(argv[1])
    p = Parser(prog='topogen generate --target aws', add_help=False, allow_abbrev=False)
    for flag in ('--with-sqs', '--with-iot-core', '--with-kms'):
        p.add_argument(flag, action='store_true')
    for opt, default in (('--postgres-port', 5432), ('--mqtt-port', 1984)):
        p.add_argument(opt, type=lambda s: port_range(s, single=True), default=default)
    p.add_argument('--infrastructure-port', type=port_range, action='append')
    p.add_argument('--cidr', type=lambda s: (lambda n, v: (n, nets(v)))(*node_arg(s, 'CIDR[,CIDR...]')),
                   action='append', default=[])
    p.add_argument('--prefix-list', type=prefix_list_arg, action='append', default=[])
    p.add_argument('--workers', choices=['in-cluster', 'external'], default='in-cluster')
    for opt in ('--namespace', '--worker-namespace', '--ingress-namespace'):   # Kubernetes only
        p.add_argument(opt)
    p.add_argument('--allow-ssh-from', type=nets, action='append', default=[])   # no effect on AWS
    p.add_argument('--vpc-id', type=matching(r'vpc-[0-9a-f]+', 'vpc-<hex>'))
    p.add_argument('--name-prefix', default='spacelift')
    p.add_argument('--max-rules', type=matching(r'[1-9][0-9]*', 'a positive integer', int), default=60)
    a = p.parse_args(argv)
    if a.with_iot_core and not a.with_sqs:
        raise Usage('topogen args: --with-iot-core requires --with-sqs')
    if a.mqtt_port == HTTP_PORT:
        raise Usage(f'topogen args: the MQTT port may not be the HTTP port {HTTP_PORT}')
    a.infra_ports = sorted(set(a.infrastructure_port or [(443, 443)]))
    a.cidrs, a.pls = defaultdict(list), defaultdict(list)   # repeated nodes merge
    for node, ns in a.cidr:
        a.cidrs[node] += ns
    for node, pl in a.prefix_list:
        a.pls[node].append(pl)
    a.weights = {pl: w for lst in a.pls.values() for pl, w in lst}
    a.pools = [Pool('worker', 'infrastructure', a.workers, a.infra_ports)]
    a.gateway, a.proxy, a.private, a.extra, a.sgs = None, None, set(), [], {}
    return finish(a)


Pool = __import__('collections').namedtuple('Pool', 'node infra placement ports')
COMPONENT_ROLES = ('server', 'drain', 'scheduler')


def finish(a):
    """The groups (in order), their names, and the existing groups, from the parsed options."""
    a.components = list(COMPONENT_ROLES) + [p.node for p in a.pools] + (['vcs-gateway'] if a.gateway else [])
    a.grouped = a.components + ['lb'] + (['vcs-gateway-lb'] if a.gateway else []) + \
        ([] if a.sgs.get('postgres') else ['postgres'])
    a.names = {f'{a.name_prefix}-{g}': g for g in a.grouped}
    a.existing = sorted({i for ids in a.sgs.values() for i in ids})
    a.existing_names = {f'existing-{i}': i for i in a.existing}
    a.external_pools = {p.node for p in a.pools if p.placement == 'external'}
    return a


def parse_topology_file(path):
    """The options of a topology file, in the shape parse_topogen_args gives."""
    try:
        with open(path) as f:
            text = f.read()
        if path.endswith('.json') or text.lstrip().startswith('{'):
            doc = json.loads(text)
        else:
            import yaml
            doc = yaml.safe_load(text)
    except (OSError, ValueError) as e:
        raise Usage(f'{path}: {e}')
    doc = doc or {}
    a = argparse.Namespace()
    opts, ports, aws = doc.get('options') or {}, doc.get('ports') or {}, doc.get('aws') or {}
    a.with_sqs, a.with_iot_core, a.with_kms = (bool(opts.get(k)) for k in ('sqs', 'iotCore', 'kms'))
    a.postgres_port, a.mqtt_port = int(ports.get('postgres', 5432)), int(ports.get('mqtt', 1984))
    a.vpc_id, a.name_prefix = aws.get('vpcId'), aws.get('namePrefix', 'spacelift')
    a.max_rules = int(aws.get('maxRules', 60))
    a.cidrs, a.pls, a.sgs = defaultdict(list), defaultdict(list), {}

    def where(node, spec):
        spec = spec or {}
        a.cidrs[node] += [ipaddress.ip_network(c) for c in spec.get('cidrs') or []]
        for text in spec.get('prefixLists') or []:
            m = re.fullmatch(r'(pl-[0-9a-f]+)(?::(\d+))?', str(text))
            if not m:
                raise Usage(f'{path}: bad prefix list {text!r}')
            a.pls[node].append((m[1], int(m[2] or 1)))
        if spec.get('securityGroups'):
            a.sgs[node] = sorted(set(a.sgs.get(node, [])) | set(spec['securityGroups']))
    for node, spec in (doc.get('nodes') or {}).items():
        where(node, spec)
    a.pools = []
    for pool in doc.get('workerPools') or [{}]:
        name = pool.get('name')
        node, infra = (f'worker-{name}', f'infrastructure-{name}') if name else ('worker', 'infrastructure')
        where(node, pool)
        spec = pool.get('infrastructure') or {}
        where(infra, spec)
        ranges = sorted({port_range(str(x)) for x in spec.get('ports') or [443]})
        a.pools.append(Pool(node, infra, pool.get('placement', 'in-cluster'), ranges))
    gw = doc.get('vcsGateway')
    a.gateway = None if gw is None else (int(gw.get('grpcPort', 1984)), int(gw.get('httpPort', 1985)))
    if gw is not None:
        where('vcs-gateway', gw)
        where('vcs-gateway-lb', gw.get('loadBalancer'))
    proxy = doc.get('egressProxy')
    a.proxy = None if proxy is None else int(proxy['port'])
    if proxy is not None:
        where('egress-proxy', proxy)
    a.private = set((doc.get('privateEndpoints') or {}).keys())
    for node, spec in (doc.get('privateEndpoints') or {}).items():
        where(node, spec)
    a.extra = []
    for e in doc.get('extraEgress') or []:
        where(e['name'], e)
        eports = []
        for x in e.get('ports') or []:
            text, _, proto = str(x).partition('/')
            eports.append((proto or 'tcp', *port_range(text)))
        a.extra.append((e['name'], list(e.get('from') or []), sorted(set(eports)), e.get('reason', '')))
    a.weights = {pl: w for lst in a.pls.values() for pl, w in lst}
    a.workers = 'external' if any(p.placement == 'external' for p in a.pools) else 'in-cluster'
    return finish(a)


# ---------------------------------------------------------------- expected rules (flows.md, AWS placement)
def addresses(a, node):
    """[(kind, peer)] of a node outside the groups: its existing groups ('sg') and prefix lists,
    else its CIDRs, else any."""
    named = [('prefix-list', pl) for pl, _ in a.pls.get(node) or []] + [('sg', i) for i in a.sgs.get(node) or []]
    if named:
        return named
    return sorted({('ipv4' if n.version == 4 else 'ipv6', str(n)) for n in a.cidrs.get(node) or ANY})


EXTERNAL_ROLES = ('clients', 'postgres', 'object-storage', 'vcs', 'container-registry', 'infrastructure', 'sqs',
                  'iot-core', 'kms', 'dns', 'admin', 'egress-proxy')


def is_external(a, node):
    return node in EXTERNAL_ROLES or node.startswith('infrastructure-') or node in {e[0] for e in a.extra}


def expected_rules(a):
    """{(node, dir, proto, lo, hi, kind, peer, flow id)}: egress on a grouped source, ingress on a
    grouped destination; group to group by reference, else the other end's addresses."""
    out, grouped = set(), set(a.grouped)

    def flow(fid, src, dst, *ports, proto='tcp'):
        # ports: numbers or (lo, hi) of proto, or (proto, lo, hi) triples
        ranges = [p if isinstance(p, tuple) and len(p) == 3 else (proto, *(p if isinstance(p, tuple) else (p, p)))
                  for p in ports]
        if a.proxy and src in a.components and is_external(a, dst) and ranges == [('tcp', 443, 443)] \
                and dst not in a.private:
            dst, ranges = 'egress-proxy', [('tcp', a.proxy, a.proxy)]
        # external workers live outside the VPC: they reach the lb's addresses, and the lb
        # group admits them only as clients
        ref = not ({src, dst} & a.external_pools)
        src_g, dst_g = src in grouped, dst in grouped
        for proto, lo, hi in ranges:
            if src_g:
                for kind, peer in [('group', dst)] if dst_g and ref else addresses(a, dst):
                    out.add((src, 'egress', proto, lo, hi, kind, peer, fid))
            if dst_g and (not src_g or ref):
                for kind, peer in [('group', src)] if src_g else addresses(a, src):
                    out.add((dst, 'ingress', proto, lo, hi, kind, peer, fid))
            elif dst_g and a.cidrs.get(src):
                # an external pool with addresses is admitted at them (without, it is a client)
                for kind, peer in addresses(a, src):
                    out.add((dst, 'ingress', proto, lo, hi, kind, peer, fid))

    broker = not a.with_iot_core
    flow('clients-lb-https', 'clients', 'lb', 443)
    flow('lb-server-http', 'lb', 'server', HTTP_PORT)
    if broker and a.external_pools:
        flow('clients-lb-mqtt', 'clients', 'lb', a.mqtt_port)
    if broker:
        flow('lb-server-mqtt', 'lb', 'server', a.mqtt_port)
    for c in ('server', 'drain'):
        flow(f'{c}-postgres', c, 'postgres', a.postgres_port)
        for node, on in (('object-storage', True), ('vcs', True), ('sqs', a.with_sqs),
                         ('iot-core', a.with_iot_core), ('kms', a.with_kms)):
            if on:
                flow(f'{c}-{node}', c, node, 443)
        flow(f'{c}-image-pull', c, 'container-registry', 443)
    flow('scheduler-postgres', 'scheduler', 'postgres', a.postgres_port)
    if a.with_sqs:
        flow('scheduler-sqs', 'scheduler', 'sqs', 443)
    flow('scheduler-image-pull', 'scheduler', 'container-registry', 443)
    for w, infra, _, ports in a.pools:
        flow(f'{w}-server', w, 'lb', 443)
        flow(f'{w}-mqtt', w, *(('iot-core', 443) if a.with_iot_core else ('lb', a.mqtt_port)))
        for node in ('object-storage', 'vcs', 'container-registry'):
            flow(f'{w}-{node}', w, node, 443)
        flow(f'{w}-infrastructure', w, infra, *ports)
    if a.gateway:
        grpc, http = a.gateway
        flow('clients-vcs-gateway-lb', 'clients', 'vcs-gateway-lb', 443)
        flow('vcs-gateway-lb-grpc', 'vcs-gateway-lb', 'vcs-gateway', grpc)
        flow('server-vcs-gateway', 'server', 'vcs-gateway', http)
        flow('drain-vcs-gateway', 'drain', 'vcs-gateway', http)
        flow('vcs-gateway-postgres', 'vcs-gateway', 'postgres', a.postgres_port)
        flow('vcs-gateway-image-pull', 'vcs-gateway', 'container-registry', 443)
    for name, sources, eports, _ in a.extra:
        for src in sources:
            flow(f'{src}-{name}', src, name, *eports)
    return out


# ---------------------------------------------------------------- port sets
def norm(ivs):
    out = []
    for lo, hi in sorted(ivs):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def minus(x, y):
    """Interval set x without interval set y (both normalised)."""
    out = []
    for lo, hi in x:
        for blo, bhi in y:
            if bhi < lo or blo > hi:
                continue
            if blo > lo:
                out.append((lo, blo - 1))
            lo = bhi + 1
        if lo <= hi:
            out.append((lo, hi))
    return out


def by_key(rules):
    """(node, dir, proto, kind, peer) -> normalised port intervals."""
    d = defaultdict(list)
    for node, dr, proto, lo, hi, kind, peer, *_ in rules:
        d[node, dr, proto, kind, peer].append((lo, hi))
    return {k: norm(v) for k, v in d.items()}


def fmt_ports(proto, ivs):
    return 'all' if proto == '-1' else ','.join(str(lo) if lo == hi else f'{lo}-{hi}' for lo, hi in ivs)


def fmt_rule(a, r):
    return f'{r[1]} {r[2]} {fmt_ports(r[2], [(r[3], r[4])])} {fmt_peer(a, r[5], r[6])}'


def fmt_peer(a, kind, peer):
    return f'group {a.name_prefix}-{peer}' if kind == 'group' and peer in a.grouped else f'{kind} {peer}'


def compare_model(a, got, expected):
    """Mismatch lines per group: [(node, line)]."""
    g, e, out = by_key(got), by_key(expected), []
    for k in sorted(set(g) | set(e)):
        node, dr, proto, kind, peer = k
        for ivs, exp, gt in ((minus(g.get(k, []), e.get(k, [])), 'deny', 'allow'),
                             (minus(e.get(k, []), g.get(k, [])), 'allow', 'deny')):
            if ivs:
                out.append((node, f'{dr} {proto} {fmt_ports(proto, ivs)} {fmt_peer(a, kind, peer)}: '
                                  f'expected {exp}, got {gt}'))
    return out


# ---------------------------------------------------------------- reading the JSON
def node_of(a, name):
    return a.names.get(name, f'?{name}')


def rules_of(a, groups, id_names=None):
    """Flatten describe-security-groups groups into rule tuples
    (node, dir, proto, from, to, kind, peer, description); group peers by node (GroupName, or
    GroupId mapped through id_names)."""
    out = []
    for sg in groups:
        node = node_of(a, sg.get('GroupName'))
        for key, dr, _ in DIRS:
            for p in [p for p in sg.get(key) or [] if isinstance(p, dict)]:
                proto = str(p.get('IpProtocol'))
                lo, hi = p.get('FromPort', -1), p.get('ToPort', -1)
                if type(lo) is not int or type(hi) is not int:   # reported by the shape check
                    lo = hi = -1
                for lst, field, kind in LISTS:
                    for x in [x for x in p.get(lst) or [] if isinstance(x, dict)]:
                        peer = x.get(field) if isinstance(x.get(field), str) else repr(x.get(field))
                        k = kind
                        if kind == 'group':
                            gid, name = x.get('GroupId'), x.get('GroupName')
                            if name is None and id_names is not None:
                                name = id_names.get(gid, gid)
                            if name is None and gid in a.existing:
                                k, peer = 'sg', gid
                            elif name in a.existing_names:
                                k, peer = 'sg', a.existing_names[name]
                            else:
                                peer = node_of(a, name if name is not None else gid)
                        out.append((node, dr, proto, lo, hi, k, peer, x.get('Description')))
    return out


def short(s):
    return repr(s) if not isinstance(s, str) or len(s) <= 80 else repr(s[:60]) + f'... ({len(s)} characters)'


def text_problem(s):
    """What AWS would reject in a description or group name, or None."""
    if not isinstance(s, str) or not s:
        return 'missing or empty'
    bad = sorted(set(AWS_TEXT.sub('', s)))
    return f'{len(s)} characters, at most 255' if len(s) > 255 else \
        f'characters {"".join(bad)!r} outside a-zA-Z0-9 and space._-:/()#,@[]+=&;{{}}!$*' if bad else None


def check_shape(a, doc, model):
    """botocore validation and own checks: [(node, line)]."""
    from botocore.validate import ParamValidator
    out, v = [], ParamValidator()
    # group level here; the permissions below, as the requests apply.sh sends
    bare = {**doc, 'SecurityGroups': [{k: x for k, x in g.items() if k not in ('IpPermissions', 'IpPermissionsEgress')}
                                      if isinstance(g, dict) else g for g in doc['SecurityGroups']]} \
        if isinstance(doc, dict) and isinstance(doc.get('SecurityGroups'), list) else doc
    report = v.validate(bare, model.operation_model('DescribeSecurityGroups').output_shape).generate_report()
    out += [('document', f'botocore (DescribeSecurityGroups result): {ln}') for ln in report.splitlines() if ln]
    groups = doc.get('SecurityGroups') if isinstance(doc, dict) else None
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise Usage('security-groups.json: expected {"SecurityGroups": [{...}, ...]}')
    fake = {name: f'sg-{i:017x}' for i, name in enumerate(sorted({str(g.get('GroupName')) for g in groups}))}
    names = [g.get('GroupName') for g in groups]
    want = [f'{a.name_prefix}-{n}' for n in a.grouped]
    if names != want:
        out.append(('document', f'groups {names}, expected {want} (in this order)'))
    for sg in groups:
        node, name = node_of(a, sg.get('GroupName')), sg.get('GroupName')

        def bad(msg):
            out.append((node, msg))
        for field in ('GroupId', 'OwnerId', 'SecurityGroupArn'):
            if field in sg:
                bad(f'{field} is only known once the group exists')
        if a.vpc_id and sg.get('VpcId') != a.vpc_id:
            bad(f'VpcId {sg.get("VpcId")!r}, expected {a.vpc_id!r} (--vpc-id)')
        if not a.vpc_id and 'VpcId' in sg:
            bad(f'VpcId {sg["VpcId"]!r} without --vpc-id')
        for field in ('GroupName', 'Description'):
            if text_problem(sg.get(field)):
                bad(f'group {field} {sg.get(field)!r}: {text_problem(sg.get(field))}')
        if isinstance(name, str) and name.lower().startswith('sg-'):
            bad('a GroupName may not start with sg-')
        tags = sorted((t.get('Key'), t.get('Value')) for t in sg.get('Tags') or [] if isinstance(t, dict))
        if tags != sorted([('managed-by', 'topogen'), ('topogen:node', node)]):
            bad(f'Tags {tags}, expected managed-by=topogen and topogen:node={node}')
        for key, dr, op in DIRS:
            perms = sg.get(key)
            if not isinstance(perms, list):
                bad(f'{key} missing')
                continue
            sub = json.loads(json.dumps(perms))   # the request apply.sh sends: group ids, not names
            for p in sub:
                for pair in p.get('UserIdGroupPairs') or [] if isinstance(p, dict) else []:
                    if isinstance(pair, dict) and 'GroupName' in pair:
                        pair['GroupId'] = fake.get(str(pair.pop('GroupName')), 'sg-' + 'f' * 17)
            report = v.validate({'GroupId': fake[str(name)], 'IpPermissions': sub},
                                model.operation_model(op).input_shape).generate_report()
            out += [(node, f'botocore ({op}): {ln}') for ln in report.splitlines() if ln]
            seen_ports = set()
            for p in perms:
                if not isinstance(p, dict):
                    continue
                proto, lo, hi = p.get('IpProtocol'), p.get('FromPort'), p.get('ToPort')
                where = f'{dr} {proto} {fmt_ports(proto, [(lo, hi)])}'
                if proto not in ('tcp', 'udp', 'icmp', 'icmpv6', '-1') and not (
                        isinstance(proto, str) and proto.isdigit() and int(proto) <= 255):
                    bad(f'{where}: IpProtocol {proto!r} is not a protocol AWS knows')
                if proto in ('tcp', 'udp') and not (type(lo) is int and type(hi) is int and 1 <= lo <= hi <= 65535):
                    bad(f'{where}: ports must satisfy 1 <= FromPort <= ToPort <= 65535')
                if (proto, lo, hi) in seen_ports:
                    bad(f'{where}: two permissions for the same protocol and ports')
                seen_ports.add((proto, lo, hi))
                missing = [lst for lst, _, _ in LISTS if not isinstance(p.get(lst), list)]
                if missing:
                    bad(f'{where}: missing list {", ".join(missing)}')
                peers = [('sg', x.get('GroupId'), x) if kind == 'group' and 'GroupName' not in x and
                         x.get('GroupId') in a.existing else (kind, x.get(field), x)
                         for lst, field, kind in LISTS for x in p.get(lst) or [] if isinstance(x, dict)]
                if not peers:
                    bad(f'{where}: no peer')
                for kind, peer, x in peers:
                    w = f'{where} {kind} {peer}'
                    if set(x) - {FIELD.get(kind, 'GroupId'), 'Description'}:
                        bad(f'{w}: keys {sorted(x)}, expected only {FIELD[kind]} and Description')
                    if kind in ('ipv4', 'ipv6'):
                        try:
                            n = ipaddress.ip_network(peer)
                            ok = str(n) == peer and n.version == (4 if kind == 'ipv4' else 6)
                        except (ValueError, TypeError):
                            ok = False
                        if not ok:
                            bad(f'{w}: not a canonical {kind} CIDR (no host bits; IPv6 lower-case, compressed)')
                    if kind == 'prefix-list' and not re.fullmatch(r'pl-[0-9a-f]+', str(peer)):
                        bad(f'{w}: not a prefix list id')
                    if text_problem(x.get('Description')):
                        bad(f'{w}: description {short(x.get("Description"))}: {text_problem(x.get("Description"))}')
                ends = [(k, str(q)) for k, q, _ in peers]
                dups = sorted({f'{k} {q}' for k, q in ends if ends.count((k, q)) > 1})
                if dups:
                    bad(f'{where}: duplicate peers {", ".join(dups)}')
    return out


def check_descriptions(a, got, expected):
    """Each rule's description starts with the ids of the flows it carries, and only those."""
    out, exp_key = [], defaultdict(list)
    for e in expected:
        exp_key[e[:3] + e[5:7]].append(e)
    named = defaultdict(set)   # (key, flow id) -> covered ports
    for node, dr, proto, lo, hi, kind, peer, desc in got:
        k = (node, dr, proto, kind, peer)
        m = FLOW_IDS.match(desc if isinstance(desc, str) else '')
        ids = set(m[1].split(', ')) if m else set()
        for fid in ids:
            named[k, fid].add((lo, hi))
        ok = {e[7] for e in exp_key.get(k, []) if e[3] <= hi and lo <= e[4]}
        if ok and (not ids or ids - ok):
            out.append((node, f'{fmt_rule(a, (node, dr, proto, lo, hi, kind, peer))}: description {short(desc)} '
                              f'names {sorted(ids) or "no flow"}, expected {sorted(ok)}'))
    for e in sorted(expected):
        k = e[:3] + e[5:7]
        gk = by_key(r for r in got if r[:3] + r[5:7] == k).get(k, [])
        if not minus([(e[3], e[4])], gk) and minus([(e[3], e[4])], norm(named[k, e[7]])):
            out.append((e[0], f'{fmt_rule(a, e)}: no description names flow {e[7]}'))
    return out


def quota(a, groups):
    """[(node, dir, ipv4 count, ipv6 count)] as AWS counts them (see the module doc)."""
    out = []
    for sg in groups:
        for key, dr, _ in DIRS:
            v4 = v6 = 0
            for p in [p for p in sg.get(key) or [] if isinstance(p, dict)]:
                both = len(p.get('UserIdGroupPairs') or []) + \
                    sum(a.weights.get(x.get('PrefixListId'), 1) for x in p.get('PrefixListIds') or [])
                v4 += len(p.get('IpRanges') or []) + both
                v6 += len(p.get('Ipv6Ranges') or []) + both
            out.append((node_of(a, sg.get('GroupName')), dr, v4, v6))
    return out


# ---------------------------------------------------------------- named assertions
def named_checks(a, rules):
    def show(r):
        return f'{r[0]} {fmt_rule(a, r)}'
    pg = a.postgres_port
    on = lambda p, lo, hi: lo <= p <= hi   # noqa: E731

    def via(node):   # where a component's 443 to an external node goes: its addresses, or the proxy's
        return addresses(a, 'egress-proxy' if a.proxy and node not in a.private else node)
    allowed_443 = set(via('container-registry')) | (set(via('sqs')) if a.with_sqs else set())
    if a.proxy and a.proxy != 443:
        allowed_443 -= set(addresses(a, 'egress-proxy'))
    want_sqs = set(via('sqs')) if a.with_sqs and (not a.proxy or 'sqs' in a.private or a.proxy == 443) else set()
    database = {('group', 'postgres')} | {('sg', i) for i in a.sgs.get('postgres') or []}
    sched_443 = [r for r in rules if r[:2] == ('scheduler', 'egress') and on(443, r[3], r[4])
                 and not (r[5:7] in database and pg == 443)]
    pools = {p.node for p in a.pools}
    db_users = ['server', 'drain', 'scheduler'] + (['vcs-gateway'] if a.gateway else [])
    pg_in = [r for r in rules if r[:2] == ('postgres', 'ingress')]
    want_pg = {('postgres', 'ingress', 'tcp', pg, pg, 'group', g) for g in db_users}
    own_db = 'postgres' in a.grouped
    to_db = [r for r in rules if r[1] == 'egress' and r[5:7] in database]
    want_to_db = {(g, 'egress', 'tcp', pg, pg, k, p) for g in db_users for k, p in database
                  if k == 'sg' or own_db}
    return [
        ('workers have no path to the database (no worker egress to it, no postgres ingress from workers)',
         [show(r) for r in rules if (r[0] in pools and r[1] == 'egress' and r[5:7] in database) or
          (r[:2] == ('postgres', 'ingress') and r[5] == 'group' and r[6] in pools)]),
        (f'the postgres group admits only the {", ".join(db_users)} groups, on tcp {pg}',
         [show(r) for r in pg_in if tuple(r[:7]) not in want_pg] +
         [f'missing: {show(r)}' for r in sorted(want_pg - {tuple(r[:7]) for r in pg_in})] if own_db else None),
        ('the postgres group has no egress',
         [show(r) for r in rules if r[:2] == ('postgres', 'egress')] if own_db else None),
        (f'only the {", ".join(db_users)} groups reach the database, on tcp {pg}',
         [show(r) for r in to_db if tuple(r[:7]) not in want_to_db] +
         [f'missing: {show(r)}' for r in sorted(want_to_db - {tuple(r[:7]) for r in to_db})]),
        ('scheduler 443 egress: only image pulls (container-registry addresses)'
         + (' and SQS' if a.with_sqs else ', no SQS without --with-sqs'),
         [show(r) for r in sched_443 if r[5:7] not in allowed_443] +
         [f'missing: scheduler egress 443 to {k} {p}' for k, p in sorted(want_sqs - {r[5:7] for r in sched_443})]),
        ('no default egress anywhere (no all-protocols egress, no egress on every port)',
         [show(r) for r in rules if r[1] == 'egress' and (r[2] == '-1' or (r[3] <= 1 and r[4] >= 65535))]),
        ('no ingress on the MQTT port with --with-iot-core',
         [show(r) for r in rules if r[1] == 'ingress' and on(a.mqtt_port, r[3], r[4])] if a.with_iot_core else None),
        ('no SSH (22) or DNS (53) ingress', [show(r) for r in rules if r[1] == 'ingress' and
                                             (on(22, r[3], r[4]) or on(53, r[3], r[4]))]),
    ]


# ---------------------------------------------------------------- moto
def start_moto(tmp):
    """moto_server (the venv's, else PATH's) on a free loopback port: (process, url)."""
    here = os.path.join(os.path.dirname(sys.executable), 'moto_server')
    exe = here if os.access(here, os.X_OK) else shutil.which('moto_server')
    if not exe or not (shutil.which('aws', path=os.path.dirname(sys.executable)) or shutil.which('aws')):
        raise Usage('moto_server or aws not found: pip install "moto[server]" awscli into the venv')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    log = os.path.join(tmp, 'moto.log')
    with open(log, 'w') as f:
        proc = subprocess.Popen([exe, '-H', '127.0.0.1', '-p', str(port)],
                                stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url, deadline = f'http://127.0.0.1:{port}', time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + '/moto-api/', timeout=1).close()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                with open(log) as f:
                    raise Usage(f'moto_server did not start on {url}:\n{f.read()[-2000:]}')
            time.sleep(0.05)


def run_apply(d, env, with_vpc=True):
    e = {k: v for k, v in env.items() if with_vpc or k != 'VPC_ID'}
    t = time.monotonic()
    try:
        r = subprocess.run(['sh', os.path.join(d, 'apply.sh')], cwd=d, env=e, capture_output=True, text=True,
                           timeout=900, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Usage('apply.sh did not finish within 900 s')
    return r, time.monotonic() - t


def snapshot(ec2, vpc):
    """The VPC's groups but its default and the existing groups of external nodes, and their rules' ids."""
    groups = ec2.describe_security_groups(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}])['SecurityGroups']
    groups = sorted((g for g in groups if g['GroupName'] != 'default' and not g['GroupName'].startswith('existing-')),
                    key=lambda g: g['GroupName'])
    ids = [g['GroupId'] for g in groups]
    rules = ec2.describe_security_group_rules(Filters=[{'Name': 'group-id', 'Values': ids}])['SecurityGroupRules'] \
        if ids else []
    return groups, sorted(r['SecurityGroupRuleId'] for r in rules)


def with_existing_groups(a, ec2, vpc, directory, tmp):
    """Creates the existing groups of external nodes in a VPC (named existing-<id>, as moto cannot take
    an id) and returns a copy of the AWS target's directory whose apply.sh names them by moto's ids
    (the directory itself when there are none), and {id: moto's id}."""
    ids = {i: ec2.create_security_group(GroupName=f'existing-{i}', Description='an existing group',
                                        VpcId=vpc)['GroupId'] for i in a.existing}
    if not ids:
        return directory, ids
    copy = tempfile.mkdtemp(prefix='applied-', dir=tmp)
    shutil.copytree(directory, copy, dirs_exist_ok=True)
    with open(os.path.join(copy, 'apply.sh')) as f:
        text = f.read()
    for i, m in ids.items():
        text = re.sub(rf'\b{re.escape(i)}\b', m, text)
    with open(os.path.join(copy, 'apply.sh'), 'w') as f:
        f.write(text)
    return copy, ids


def moto_stage(a, o, doc, tmp, expected, mism):
    import boto3
    import botocore.exceptions
    proc, url = (None, o.endpoint) if o.endpoint else start_moto(tmp)
    try:   # a VPC of our own: a shared --endpoint is safe
        ec2 = boto3.client('ec2', endpoint_url=url, region_name='us-east-1',
                           aws_access_key_id='testing', aws_secret_access_key='testing')
        v6 = any(p.get('Ipv6Ranges') for g in doc['SecurityGroups'] for k, _, _ in DIRS for p in g.get(k) or []
                 if isinstance(p, dict))
        vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16', AmazonProvidedIpv6CidrBlock=v6)['Vpc']['VpcId']
        # The existing groups of external nodes, made in the VPC; apply.sh runs on a copy that
        # names them by moto's ids.
        o = argparse.Namespace(**{**vars(o), 'dir': with_existing_groups(a, ec2, vpc, o.dir, tmp)[0]})
        env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
        env.update(VPC_ID=vpc, AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='testing',
                   AWS_DEFAULT_REGION='us-east-1', AWS_REGION='us-east-1', AWS_EC2_METADATA_DISABLED='true',
                   AWS_CONFIG_FILE=os.path.join(tmp, 'none'), AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, 'none'),
                   PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
        extra = []
        if not a.vpc_id:   # no VPC_ID, no --vpc-id: a clear error, and nothing created
            before = {g['GroupId'] for g in ec2.describe_security_groups()['SecurityGroups']}
            r, _ = run_apply(o.dir, env, with_vpc=False)
            left = [g['GroupName'] for g in ec2.describe_security_groups()['SecurityGroups']
                    if g['GroupId'] not in before]
            if r.returncode == 0 or not r.stderr.strip() or left:
                extra.append(f'apply.sh without VPC_ID: exit {r.returncode}, stderr {r.stderr.strip()[:200]!r}, '
                             f'groups created {left}; expected a non-zero exit, an error message and no group')
        r, t1 = run_apply(o.dir, env)
        if r.returncode != 0:
            hint = '\nhint: moto counts IPv4, IPv6 and references together, and the default egress until it is ' \
                   'revoked' if 'RulesPerSecurityGroupLimitExceeded' in r.stderr else ''
            raise Usage(f'apply.sh failed (exit {r.returncode}, {t1:.1f} s):\n{r.stderr.strip()}\n'
                        f'{r.stdout.strip()}{hint}')
        groups, rule_ids = snapshot(ec2, vpc)
        if {g['GroupName'] for g in groups} != set(a.names):
            extra.append(f'moto has groups {sorted(g["GroupName"] for g in groups)}, expected {sorted(a.names)}')
        every = ec2.describe_security_groups()['SecurityGroups']   # references may point anywhere
        got = rules_of(a, groups, {g['GroupId']: g['GroupName'] for g in every})
        mism += [(n, f'[moto] {x}') for n, x in compare_model(a, got, expected)]
        # exactly the JSON: ports as written, descriptions (moto drops those of prefix lists), tags
        strip = lambda rs: {r[:7] + ((None,) if r[5] == 'prefix-list' else r[7:]) for r in rs}   # noqa: E731
        js, mo = strip(rules_of(a, doc['SecurityGroups'])), strip(got)
        for side, rs in (('in the JSON, not in moto', js - mo), ('in moto, not in the JSON', mo - js)):
            mism += [(x[0], f'[moto vs JSON] {fmt_rule(a, x)} description {short(x[7])}: {side}')
                     for x in sorted(rs, key=str)]
        want = {g.get('GroupName'): g for g in doc['SecurityGroups']}
        for g in groups:
            w, node = want.get(g['GroupName'], {}), node_of(a, g['GroupName'])
            if g.get('Description') != w.get('Description'):
                mism.append((node, f'[moto] group description {g.get("Description")!r}, JSON {w.get("Description")!r}'))
            tags = {(t['Key'], t['Value']) for t in g.get('Tags', [])}
            if not {('managed-by', 'topogen'), ('topogen:node', node)} <= tags:
                mism.append((node, f'[moto] tags {sorted(tags)}: managed-by=topogen, topogen:node={node} missing'))
        r2, t2 = run_apply(o.dir, env)
        again = snapshot(ec2, vpc)
        if r2.returncode != 0 or r2.stderr.strip():
            extra.append(f'second apply.sh: exit {r2.returncode}, stderr:\n{r2.stderr.strip()}')
        if again != (groups, rule_ids):
            extra.append('second apply.sh changed the groups or their rules (rule ids or describe output differ)')
        return got, extra, t1, t2, r.stderr.strip()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        raise Usage(f'moto at {url}: {e}')
    finally:
        if proc:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description='AWS security group oracle (botocore, moto) for topogen')
    ap.add_argument('--dir', required=True, help='the directory with security-groups.json and apply.sh')
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--args-file')
    g.add_argument('--args', dest='args_string', help='the topogen arguments as one string')
    g.add_argument('--topology', help='a topology file (YAML or JSON) instead of arguments')
    ap.add_argument('--endpoint', help='a running moto server (default: start one on a free loopback port)')
    ap.add_argument('--no-moto', action='store_true', help='stages 1 and 2 only (shape and model)')
    ap.add_argument('-q', '--quiet', action='store_true', help='on success print only the summary line')
    argv = sys.argv[1:]   # let `--args "--with-sqs ..."` through although its value starts with "--"
    if '--args' in argv[:-1]:
        i = argv.index('--args')
        argv[i:i + 2] = ['--args=' + argv[i + 1]]
    o = ap.parse_args(argv)
    o.dir = os.path.abspath(o.dir)
    try:   # args file: blank and '#' lines ignored, the others split on whitespace
        if o.args_file and o.args_file.endswith(TOPOLOGY_SUFFIXES):   # an example that is a topology file
            o.topology, o.args_file = o.args_file, None
        with open(o.args_file or os.devnull) as f:
            targs = [t for ln in f if not ln.lstrip().startswith('#') for t in ln.split()] \
                if o.args_file else ['--topology', o.topology] if o.topology else o.args_string.split()
        with open(os.path.join(o.dir, 'security-groups.json')) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise Usage(str(e))
    a = parse_topogen_args(targs)
    if not o.no_moto and not os.path.isfile(os.path.join(o.dir, 'apply.sh')):
        raise Usage(f'missing in {o.dir}: apply.sh')
    import botocore.session
    expected = expected_rules(a)
    mism = check_shape(a, doc, botocore.session.get_session().get_service_model('ec2'))
    rules, counts = rules_of(a, doc['SecurityGroups']), quota(a, doc['SecurityGroups'])
    mism += [(n, f'{d}: {v4} IPv4 and {v6} IPv6 rules, over the quota of {a.max_rules}')
             for n, d, v4, v6 in counts if max(v4, v6) > a.max_rules]
    mism += compare_model(a, rules, expected) + check_descriptions(a, rules, expected)
    extra, timing, first_err, moto_rules = [], None, '', None
    if not o.no_moto:
        over = [f'{n} {d}: {c}' for n, d, c in ((n, d, sum(r[:2] == (n, d) for r in rules)) for n in a.grouped
                                                 for _, d, _ in DIRS) if c > MOTO_LIMIT]
        if over:
            raise Usage(f"beyond moto's fixed limit of {MOTO_LIMIT} rules per direction (IPv4, IPv6 and "
                        f'references together): {"; ".join(over)}; run with --no-moto')
        with tempfile.TemporaryDirectory(prefix='aws-oracle-') as tmp:
            moto_rules, extra, *timing, first_err = moto_stage(a, o, doc, tmp, expected, mism)

    named_moto = dict(named_checks(a, moto_rules)) if moto_rules is not None else {}
    named = [(n, None if v is None else v + [f'[moto] {x}' for x in named_moto.get(n) or []])
             for n, v in named_checks(a, rules)]
    failed = [n for n, v in named if v]
    ok = not mism and not failed and not extra
    if not (o.quiet and ok):
        print(f'aws oracle: {len(doc["SecurityGroups"])} groups, {len(rules)} rules '
              f'(args: {" ".join(targs) or "defaults"})')
        for n, v in named:
            print(f'  {"n/a " if v is None else "FAIL" if v else "ok  "}  {n}' + ''.join(f'\n          {x}'
                                                                                     for x in v or []))
        top = max([(max(v4, v6), f'{n} {d}') for n, d, v4, v6 in counts] or [(0, '-')])
        print(f'  quota: largest count {top[0]} of {a.max_rules} ({top[1]}; IPv4 and IPv6 counted separately)')
        if first_err:   # progress is fine; anything that looks like a problem is shown
            lines = first_err.splitlines()
            print(f'  note: the first apply.sh wrote {len(lines)} line(s) to stderr' + ''.join(
                f'\n    {ln}' for ln in lines if re.search(r'error|warn|fail', ln, re.I)))
    if not ok:
        print(f'aws oracle: {len(mism)} mismatches, {len(failed)} named checks failed, {len(extra)} apply problems')
        by_group = defaultdict(list)
        for n, x in mism:
            by_group[n].append(x)
        order = ['document'] + list(a.grouped)
        for n in sorted(by_group, key=lambda n: (order.index(n) if n in order else len(order), n)):
            print(f'  {a.name_prefix}-{n}:' if n in a.grouped else f'  {n}:')
            print(''.join(f'    MISMATCH  {x}\n' for x in by_group[n]), end='')
        print(''.join(f'  FAIL  {x}\n' for x in extra), end='')
        return 1
    tail = 'moto skipped (--no-moto)' if not timing else \
        f'moto apply ok ({timing[0]:.1f} s), second apply no change ({timing[1]:.1f} s)'
    print(f'aws oracle: {len(doc["SecurityGroups"])} groups, {len(rules)} rules, shape ok, JSON as expected, '
          f'{tail}: all as expected')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Usage as e:
        print(f'aws oracle: error: {e}', file=sys.stderr)
        sys.exit(2)
    except Exception:   # an oracle that cannot judge must look neither like a finding (1) nor a pass (0)
        traceback.print_exc()
        print('aws oracle: error: internal error (above)', file=sys.stderr)
        sys.exit(2)
