#!/usr/bin/env python3
"""Prints a synthetic `iptables-save` of a busy host, for benchmarking `topogen diff`.

    python3 Tests/Checkers/gen_iptables_save.py [--rules 100000] [--seed 1] > rules.v4

The mix, scaled to the number of rules asked for (exactly that many `-A` lines):
- nat, about half: kube-proxy's service chains (KUBE-SERVICES, one KUBE-SVC-* per service with
  three endpoints picked by `-m statistic`, one KUBE-SEP-* per endpoint), Docker's DNATs;
- mangle: a few marks;
- filter: kube-proxy's filter chains (KUBE-SERVICES rejects for services without endpoints,
  KUBE-NODEPORTS health checks, KUBE-FIREWALL), Docker 28's FORWARD chains, a fail2ban-like
  chain of single-address REJECTs for SSH, a long allow list of client addresses for the
  server's HTTP port (1983) in a user chain, an egress allow list of HTTPS destinations in
  another, and some rules written in INPUT and OUTPUT directly.
Diffed as the server of the reference installation (`--role server`, IPv4), the allow lists
are narrower than the flows (one missing finding each, not one per rule); the node ports,
SSH and ping are extra.
Deterministic for a seed. The output is valid iptables-restore input.
"""
import argparse
import random


def address(rng, first=None):
    a = first if first is not None else rng.choice([23, 45, 67, 89, 101, 151, 185, 203])
    return f'{a}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}'


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--rules', type=int, default=100_000)
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    n = a.rules
    nat, mangle, filt = [], [], []
    nat_chains, filter_chains = ['DOCKER', 'KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS'], []
    c = '-m comment --comment'

    # filter: fixed parts
    filter_chains += ['DOCKER', 'DOCKER-BRIDGE', 'DOCKER-CT', 'DOCKER-FORWARD', 'DOCKER-ISOLATION-STAGE-1',
                      'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL',
                      'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES',
                      'f2b-sshd', 'ALLOW-CLIENTS', 'EGRESS-ALLOW']
    filt += [
        '-A INPUT -i lo -j ACCEPT',
        '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A INPUT -m conntrack --ctstate INVALID -j DROP',
        f'-A INPUT -m conntrack --ctstate NEW {c} "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        f'-A INPUT {c} "kubernetes health check service ports" -j KUBE-NODEPORTS',
        f'-A INPUT -m conntrack --ctstate NEW {c} "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A INPUT -j KUBE-FIREWALL',
        '-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd',
        '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
        '-A INPUT -p tcp -m tcp --dport 1983 -j ALLOW-CLIENTS',
        '-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 1984 -j ACCEPT',
        '-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec -j ACCEPT',
        '-A INPUT -j LOG --log-prefix "input drop: "',
        '-A FORWARD -j DOCKER-USER',
        '-A FORWARD -j DOCKER-FORWARD',
        '-A OUTPUT -o lo -j ACCEPT',
        '-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        f'-A OUTPUT -m conntrack --ctstate NEW {c} "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -j KUBE-FIREWALL',
        '-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT',
        '-A OUTPUT -p tcp -m tcp --dport 53 -j ACCEPT',
        '-A OUTPUT -d 10.0.0.0/8 -p tcp -m tcp --dport 5432 -j ACCEPT',
        '-A OUTPUT -j EGRESS-ALLOW',
        '-A OUTPUT -j REJECT --reject-with icmp-port-unreachable',
        '-A DOCKER ! -i docker0 -o docker0 -j DROP',
        '-A DOCKER-BRIDGE -o docker0 -j DOCKER',
        '-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A DOCKER-FORWARD -j DOCKER-CT',
        '-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1',
        '-A DOCKER-FORWARD -j DOCKER-BRIDGE',
        '-A DOCKER-FORWARD -i docker0 -j ACCEPT',
        '-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
        '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
        f'-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 {c} "block incoming localnet connections" '
        '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
        '-A f2b-sshd -j RETURN',
    ]
    mangle += ['-A PREROUTING -i docker0 -j MARK --set-xmark 0x1/0xffffffff',
               '-A OUTPUT -p tcp -m tcp --dport 25 -j MARK --set-xmark 0x2/0xffffffff']

    # Budget: half nat, the rest filter lists.
    remaining = n - len(filt) - len(mangle)
    nat_budget = remaining // 2
    filter_budget = remaining - nat_budget
    # nat: kube-proxy services (1 + 3 statistic + 3*2 endpoint rules = 10 per service).
    nat += [f'-A PREROUTING {c} "kubernetes service portals" -j KUBE-SERVICES',
            '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
            f'-A OUTPUT {c} "kubernetes service portals" -j KUBE-SERVICES',
            '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
            f'-A POSTROUTING {c} "kubernetes postrouting rules" -j KUBE-POSTROUTING',
            '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
            '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
            f'-A KUBE-SERVICES {c} "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS']
    service = 0
    while len(nat) + 10 <= nat_budget:
        service += 1
        svc, vip = f'KUBE-SVC-{service:016X}', f'10.{96 + service // 65536}.{service // 256 % 256}.{service % 256}'
        nat_chains.append(svc)
        nat.append(f'-A KUBE-SERVICES -d {vip}/32 -p tcp {c} "ns{service % 50}/svc{service}:http cluster IP" '
                   f'-m tcp --dport 80 -j {svc}')
        for e in range(3):
            sep = f'KUBE-SEP-{service:012X}{e:04X}'
            nat_chains.append(sep)
            ep = f'10.244.{(service * 3 + e) // 256 % 256}.{(service * 3 + e) % 256}'
            stat = f' -m statistic --mode random --probability {1 / (3 - e):.11f}' if e < 2 else ''
            nat.append(f'-A {svc} {c} "ns/svc{service}:http -> {ep}:8080"{stat} -j {sep}')
            nat.append(f'-A {sep} -s {ep}/32 {c} "ns/svc{service}:http" -j KUBE-MARK-MASQ')
            nat.append(f'-A {sep} -p tcp {c} "ns/svc{service}:http" -m tcp -j DNAT --to-destination {ep}:8080')
    while len(nat) < nat_budget:
        port = 30000 + len(nat) % 2000
        nat.append(f'-A DOCKER ! -i docker0 -p tcp -m tcp --dport {port} -j DNAT --to-destination 172.17.0.2:{port}')

    # filter lists: 0.5% kube rejects, 0.5% node ports, 10% fail2ban, 60% clients, rest egress.
    lists = []
    for i in range(filter_budget * 5 // 1000):
        lists.append(f'-A KUBE-SERVICES -d 10.100.{i // 256 % 256}.{i % 256}/32 -p tcp {c} "ns/svc-{i}:http has no endpoints" '
                     f'-m tcp --dport {8000 + i % 100} -j REJECT --reject-with icmp-port-unreachable')
    for i in range(filter_budget * 5 // 1000):
        lists.append(f'-A KUBE-NODEPORTS -p tcp {c} "ns/web-{i}:http health check node port" -m tcp --dport {30000 + i % 2768} -j ACCEPT')
    bans = filter_budget // 10
    lists += [f'-I f2b-sshd 1 -s {address(rng)}/32 -j REJECT --reject-with icmp-port-unreachable' for _ in range(bans)]
    clients = filter_budget * 6 // 10
    lists += [f'-A ALLOW-CLIENTS -s {address(rng)}/32 -p tcp -m tcp --dport 1983 {c} "client {i}" -j ACCEPT'
              for i in range(clients)]
    while len(lists) < filter_budget:
        i = len(lists)
        lists.append(f'-A EGRESS-ALLOW -d {address(rng)}/32 -p tcp -m tcp --dport 443 -j ACCEPT')
    filt += lists

    print('# Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 29 10:00:00 2026')
    print('*mangle')
    for chain in ('PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'):
        print(f':{chain} ACCEPT [0:0]')
    print('\n'.join(mangle))
    print('COMMIT')
    print('*nat')
    for chain in ('PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'):
        print(f':{chain} ACCEPT [0:0]')
    print('\n'.join(f':{chain} - [0:0]' for chain in nat_chains))
    print('\n'.join(nat))
    print('COMMIT')
    print('*filter')
    print(':INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]')
    print('\n'.join(f':{chain} - [0:0]' for chain in filter_chains))
    print('\n'.join(filt))
    print('COMMIT')
    print('# Completed on Sun Nov 29 10:00:00 2026')


if __name__ == '__main__':
    main()
