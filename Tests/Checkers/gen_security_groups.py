#!/usr/bin/env python3
"""Prints a large `aws ec2 describe-security-groups` output, for `topogen diff`'s benchmark.

    python3 Tests/Checkers/gen_security_groups.py [--rules 10000] [--name-prefix spacelift]
                                                  [--vpc-id vpc-0123456789abcdef0] [--seed 1]

The account holds the six groups of the reference installation (`topogen generate --target aws`
with no other option, or with --name-prefix/--vpc-id as given), with exactly their rules,
referenced by GroupId as AWS prints them, and fills the rest of --rules with rules the model does
not have, the way a real account drifts:
- about half of them (--on-model) on topogen's groups (so the diff compares them all): ingress from single
  addresses and small networks on the groups' own ports and on others, egress to /32 hosts on 443
  and on random ports, references to other groups, a few prefix lists, some ICMP and all-traffic
  rules, IPv4 and IPv6;
- the rest on other groups of the account (an application's, a bastion's: `app-0017`), which
  the diff leaves out, some in another VPC.
Every rule is one peer of a permission (a permission holds up to 20 peers, as AWS groups them
by protocol and ports). Deterministic for a seed. Python's standard library only.
The reference rules are the model of Tests/Checkers/aws_oracle.py (spec/flows.md), written out
here so that the generator stands alone; `topogen diff` with the same options reports no
missing flow, and each added rule as extra or broader.
"""
import argparse
import json
import random
import sys

GROUPED = ('server', 'drain', 'scheduler', 'worker', 'lb', 'postgres')
ANY4, ANY6 = '0.0.0.0/0', '::/0'


def reference_rules():
    """[(group, direction, port, peer kind, peer, description)] of the reference installation."""
    rules = []

    def flow(src, dst, port, fid, what):
        if src in GROUPED:
            rules.append((src, 'egress', port, 'group' if dst in GROUPED else 'any', dst, f'{fid}: {what}'))
        if dst in GROUPED:
            rules.append((dst, 'ingress', port, 'group' if src in GROUPED else 'any', src, f'{fid}: {what}'))
    flow('lb', 'server', 1983, 'lb-server-http', 'Server ingress HTTP 1983')
    flow('lb', 'server', 1984, 'lb-server-mqtt', 'Server ingress MQTT')
    flow('clients', 'lb', 443, 'clients-lb-https', 'Server ingress HTTP (reached through the public endpoint)')
    flow('worker', 'lb', 443, 'worker-server', 'Workers egress Spacelift Server 443')
    flow('worker', 'lb', 1984, 'worker-mqtt', 'Workers egress MQTT Broker')
    for c in ('server', 'drain', 'scheduler'):
        flow(c, 'postgres', 5432, f'{c}-postgres', f'{c.title()} egress Postgres')
    for c, ids in (('server', ('object-storage', 'vcs', 'image-pull')), ('drain', ('object-storage', 'vcs',
                   'image-pull')), ('scheduler', ('image-pull',)),
                   ('worker', ('object-storage', 'vcs', 'container-registry', 'infrastructure'))):
        for i in ids:
            flow(c, i, 443, f'{c}-{i}', f'{c.title()} egress {i}')
    return rules


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rules', type=int, default=10000, help='rules in all (default 10000)')
    ap.add_argument('--name-prefix', default='spacelift')
    ap.add_argument('--vpc-id', default='vpc-0123456789abcdef0')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--on-model', type=float, default=0.5,
                    help="the share of the added rules on topogen's groups (default 0.5; 1 is the worst case)")
    o = ap.parse_args()
    rnd = random.Random(o.seed)
    owner = '123456789012'
    ids = {g: f'sg-{i:017x}' for i, g in enumerate(GROUPED, start=0x1000)}
    # group id -> {direction: {(protocol, from, to): [(list, entry)]}}
    groups = {}
    order = []

    def group(gid, name, vpc):
        if gid not in groups:
            groups[gid] = {'name': name, 'vpc': vpc, 'ingress': {}, 'egress': {}}
            order.append(gid)
        return groups[gid]

    def add(gid, direction, proto, lo, hi, kind, peer, desc=None):
        key = (proto, lo, hi)
        entry = {'ipv4': ('IpRanges', {'CidrIp': peer}), 'ipv6': ('Ipv6Ranges', {'CidrIpv6': peer}),
                 'pl': ('PrefixListIds', {'PrefixListId': peer}),
                 'group': ('UserIdGroupPairs', {'GroupId': peer, 'UserId': owner})}[kind]
        if desc:
            entry[1]['Description'] = desc
        groups[gid][direction].setdefault(key, []).append(entry)

    for g in GROUPED:
        group(ids[g], f'{o.name_prefix}-{g}', o.vpc_id)
    count = 0
    for g, direction, port, kind, peer, desc in reference_rules():
        if kind == 'group':
            add(ids[g], direction, 'tcp', port, port, 'group', ids[peer], desc)
            count += 1
        else:
            add(ids[g], direction, 'tcp', port, port, 'ipv4', ANY4, desc)
            add(ids[g], direction, 'tcp', port, port, 'ipv6', ANY6, desc)
            count += 2
    others = [f'sg-{i:017x}' for i in range(0x2000, 0x2000 + max(1, o.rules // 100))]
    for i, gid in enumerate(others):
        group(gid, f'app-{i:04d}', o.vpc_id if i % 5 else 'vpc-0fedcba9876543210')
    remaining = max(0, o.rules - count)
    on_model = int(remaining * min(1.0, max(0.0, o.on_model)))
    for n in range(remaining):
        mine = n < on_model
        gid = ids[GROUPED[n % len(GROUPED)]] if mine else others[n % len(others)]
        direction = 'ingress' if rnd.random() < 0.5 else 'egress'
        r = rnd.random()
        if r < 0.55:   # a host or a small network, IPv4, on a port of the model or another
            port = rnd.choice((443, 1983, 5432, 22, 8080)) if rnd.random() < 0.5 else rnd.randrange(1, 65536)
            hi = port if rnd.random() < 0.8 else min(65535, port + rnd.randrange(1, 1000))
            add(gid, direction, 'tcp', port, hi, 'ipv4',
                f'10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}/32'
                if rnd.random() < 0.7 else f'172.{16 + rnd.randrange(16)}.{rnd.randrange(256)}.0/24',
                f'rule {n}' if rnd.random() < 0.5 else None)
        elif r < 0.7:   # IPv6
            port = rnd.choice((443, 1983, 5432)) if rnd.random() < 0.5 else rnd.randrange(1, 65536)
            add(gid, direction, 'udp' if rnd.random() < 0.2 else 'tcp', port, port, 'ipv6',
                f'2001:db8:{rnd.randrange(65536):x}:{rnd.randrange(65536):x}::/64')
        elif r < 0.85:   # a reference to another group, of the model or not
            peer = rnd.choice(list(ids.values()) + others)
            port = rnd.choice((443, 1983, 1984, 5432)) if rnd.random() < 0.5 else rnd.randrange(1, 65536)
            add(gid, direction, 'tcp', port, port, 'group', peer)
        elif r < 0.92:   # a prefix list
            add(gid, direction, 'tcp', 443, 443, 'pl', f'pl-{rnd.randrange(16**8):08x}')
        elif r < 0.97:   # ICMP
            add(gid, direction, 'icmp', rnd.choice((-1, 0, 3, 8)), -1, 'ipv4',
                f'10.{rnd.randrange(256)}.0.0/16')
        else:   # all traffic
            add(gid, direction, '-1', None, None, 'ipv4', f'10.{rnd.randrange(256)}.{rnd.randrange(256)}.0/24')

    def permissions(rules):
        out = []
        for (proto, lo, hi), entries in rules.items():
            for start in range(0, len(entries), 20):
                p = {'IpProtocol': proto, 'IpRanges': [], 'Ipv6Ranges': [], 'PrefixListIds': [],
                     'UserIdGroupPairs': []}
                if lo is not None:
                    p['FromPort'], p['ToPort'] = lo, hi
                for lst, entry in entries[start:start + 20]:
                    p[lst].append(entry)
                out.append(p)
        return out

    doc = {'SecurityGroups': [{
        'Description': f'{g["name"]} (generated)', 'GroupName': g['name'], 'GroupId': gid, 'OwnerId': owner,
        'IpPermissions': permissions(g['ingress']), 'IpPermissionsEgress': permissions(g['egress']),
        'Tags': [], 'VpcId': g['vpc'],
        'SecurityGroupArn': f'arn:aws:ec2:us-east-1:{owner}:security-group/{gid}',
    } for gid, g in ((gid, groups[gid]) for gid in order)]}
    json.dump(doc, sys.stdout, indent=4)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
