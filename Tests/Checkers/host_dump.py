#!/usr/bin/env python3
"""What the kernel's tools print after topogen's host firewall is applied beside other chains.

    python3 Tests/Checkers/host_dump.py < scenarios.json > dumps.json

Run as root. stdin is {"scenarios": [SCENARIO, ...]}; each SCENARIO is
    {"name": "hosts-worker", "apply": "sh"|"nft", "file": "/path/worker.sh",
     "foreign": ["docker", "kube", "nft"], "then": ["iptables -w -I TOPOGEN-INPUT 1 ...", ...]}
and runs in a fresh network namespace (deleted afterwards): the foreign rules first (as Docker
and kube-proxy leave them, loaded with iptables-restore and ip6tables-restore: Docker 28's
FORWARD chains and raw drops, kube-proxy's filter and nat chains; "nft": a table of native
nftables chains in the same roles), then topogen's file (`sh FILE apply`, or `nft -f FILE`),
then each `then` command (sh -c, in the namespace). stdout is a JSON object: per scenario name,
{"iptables-save": ..., "ip6tables-save": ..., "nft": ..., "nft-json": ...} as the tools print
them. Exit 0; 2 and a message on stderr when a command fails.
"""
import json
import os
import subprocess
import sys

DOCKER_KUBE = {
    4: {'lo': '127.0.0.0/8', 'net': '172.17.0.0/16', 'container': '172.17.0.2/32',
        'vip': '10.96.0.10/32', 'reject': 'icmp-port-unreachable', 'node': '10.0.1.5/32'},
    6: {'lo': '::1/128', 'net': 'fd00:dead::/64', 'container': 'fd00:dead::2/128',
        'vip': 'fd00:96::a/128', 'reject': 'icmp6-port-unreachable', 'node': 'fd00:1::5/128'},
}


def docker(v):
    """Docker 28's chains for one bridge with one published port, as iptables-save shows them."""
    a = DOCKER_KUBE[v]
    return {
        'raw': [f'-A PREROUTING -d {a["container"]} ! -i docker0 -j DROP'],
        'nat': [
            '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
            f'-A OUTPUT ! -d {a["lo"]} -m addrtype --dst-type LOCAL -j DOCKER',
            f'-A POSTROUTING -s {a["net"]} ! -o docker0 -j MASQUERADE',
            '-A DOCKER -i docker0 -j RETURN',
            '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination '
            + (f'{a["container"][:-3]}:80' if v == 4 else f'[{a["container"][:-4]}]:80'),
        ],
        'filter': [
            '-A FORWARD -j DOCKER-USER',
            '-A FORWARD -j DOCKER-FORWARD',
            f'-A DOCKER -d {a["container"]} ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT',
            '-A DOCKER ! -i docker0 -o docker0 -j DROP',
            '-A DOCKER-BRIDGE -o docker0 -j DOCKER',
            '-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
            '-A DOCKER-FORWARD -j DOCKER-CT',
            '-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1',
            '-A DOCKER-FORWARD -j DOCKER-BRIDGE',
            '-A DOCKER-FORWARD -i docker0 -j ACCEPT',
            '-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2',
            '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
        ],
        'chains': {'raw': [], 'nat': ['DOCKER'], 'filter': [
            'DOCKER', 'DOCKER-BRIDGE', 'DOCKER-CT', 'DOCKER-FORWARD', 'DOCKER-ISOLATION-STAGE-1',
            'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER']},
        'policies': {'FORWARD': 'DROP'},
    }


def kube(v):
    """kube-proxy's (iptables mode, 1.29+) chains for one service without endpoints and one
    health check node port."""
    a = DOCKER_KUBE[v]
    c = '-m comment --comment'
    firewall = ([f'-A KUBE-FIREWALL ! -s {a["lo"]} -d {a["lo"]} {c} "block incoming localnet connections" '
                 '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'] if v == 4 else [])
    return {
        'raw': [],
        'nat': [
            f'-A PREROUTING {c} "kubernetes service portals" -j KUBE-SERVICES',
            f'-A OUTPUT {c} "kubernetes service portals" -j KUBE-SERVICES',
            f'-A POSTROUTING {c} "kubernetes postrouting rules" -j KUBE-POSTROUTING',
            '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
            '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
            '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
            f'-A KUBE-POSTROUTING {c} "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        ],
        'filter': [
            f'-A INPUT -m conntrack --ctstate NEW {c} "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
            f'-A INPUT {c} "kubernetes health check service ports" -j KUBE-NODEPORTS',
            f'-A INPUT -m conntrack --ctstate NEW {c} "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
            '-A INPUT -j KUBE-FIREWALL',
            f'-A OUTPUT -m conntrack --ctstate NEW {c} "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
            f'-A OUTPUT -m conntrack --ctstate NEW {c} "kubernetes service portals" -j KUBE-SERVICES',
            '-A OUTPUT -j KUBE-FIREWALL',
        ] + firewall + [
            f'-A KUBE-NODEPORTS -p tcp {c} "default/web:http health check node port" -m tcp --dport 32000 -j ACCEPT',
            f'-A KUBE-SERVICES -d {a["vip"]} -p tcp {c} "kube-system/kube-dns:dns-tcp has no endpoints" '
            f'-m tcp --dport 53 -j REJECT --reject-with {a["reject"]}',
        ],
        'chains': {'raw': [], 'nat': ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'], 'filter': [
            'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-KUBELET-CANARY',
            'KUBE-NODEPORTS', 'KUBE-PROXY-CANARY', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES']},
        'policies': {},
    }


BUILT_IN = {'raw': ['PREROUTING', 'OUTPUT'], 'nat': ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
            'filter': ['INPUT', 'FORWARD', 'OUTPUT']}

# Native nftables chains in Docker's and kube-proxy's roles: a forward chain that lets every
# container out and into its published port, and an output chain that rejects a service
# without endpoints (on a port no flow uses).
FOREIGN_NFT = """table ip docker-like {
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established,related accept
\t\toifname "docker0" ip daddr 172.17.0.2 tcp dport 80 accept
\t\tiifname "docker0" accept
\t}
}
table inet kube-like {
\tchain input {
\t\ttype filter hook input priority -110; policy accept;
\t\tct state new tcp dport 32000 accept comment "health check node port"
\t}
\tchain output {
\t\ttype filter hook output priority -110; policy accept;
\t\tct state new jump services
\t}
\tchain services {
\t\tip daddr 10.96.0.20 tcp dport 8080 reject
\t}
}
"""


def restore_input(parts):
    """iptables-restore input of the foreign parts of one family."""
    out = []
    for table in ('raw', 'nat', 'filter'):
        chains = [c for p in parts for c in p['chains'][table]]
        rules = [r for p in parts for r in p[table]]
        if not chains and not rules:
            continue
        policies = {k: v for p in parts for k, v in p['policies'].items()} if table == 'filter' else {}
        out.append(f'*{table}')
        out += [f':{c} {policies.get(c, "ACCEPT")} [0:0]' for c in BUILT_IN[table]]
        out += [f':{c} - [0:0]' for c in dict.fromkeys(chains)]
        out += rules
        out.append('COMMIT')
    return '\n'.join(out) + '\n'


def run(ns, command, stdin=None):
    result = subprocess.run(['ip', 'netns', 'exec', ns, 'sh', '-c', command], input=stdin,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f'{command!r} failed ({result.returncode}): {result.stderr.strip()}')
    return result.stdout


def scenario(spec, index):
    ns = f'topogen-dump-{os.getpid()}-{index}'
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    try:
        run(ns, 'ip link set lo up')
        foreign = spec.get('foreign', [])
        for v, tool in ((4, 'iptables-restore'), (6, 'ip6tables-restore')):
            parts = [f(v) for name, f in (('docker', docker), ('kube', kube)) if name in foreign]
            if parts:
                run(ns, f'{tool} -w', restore_input(parts))
        if 'nft' in foreign:
            run(ns, 'nft -f -', FOREIGN_NFT)
        if spec['apply'] == 'sh':
            run(ns, f'sh {spec["file"]} apply')
        else:
            run(ns, f'nft -f {spec["file"]}')
        for command in spec.get('then', []):
            run(ns, command)
        return {'iptables-save': run(ns, 'iptables-save'), 'ip6tables-save': run(ns, 'ip6tables-save'),
                'nft': run(ns, 'nft list ruleset'), 'nft-json': run(ns, 'nft -j list ruleset')}
    finally:
        subprocess.run(['ip', 'netns', 'del', ns], check=False)


def main():
    specs = json.load(sys.stdin)['scenarios']
    try:
        dumps = {spec['name']: scenario(spec, i) for i, spec in enumerate(specs)}
    except (RuntimeError, subprocess.CalledProcessError, KeyError) as e:
        print(f'host_dump: {e}', file=sys.stderr)
        return 2
    json.dump(dumps, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
