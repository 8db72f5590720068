#!/usr/bin/env python3
"""NCA's connectivity for the Kubernetes reader's engine cross-check (`topogen diff --target k8s`).

    .venv/bin/python3 Tests/Checkers/k8s_diff_oracle.py (--args-file F | --args "...")
                      --policies FILE [--policies FILE2 ...] [--nca PATH]

For each policies file, runs network-config-analyzer (NCA) on k8s_oracle's cluster fixture (the
chart's pods, an unrelated pod of the backend namespace, workers, kube-dns and kube-proxy, an
ingress controller and a pod of another namespace, and the whole address space) and prints, as
one JSON document on stdout, what each pod may open (the egress rules alone) and accept (the
ingress rules alone): one NCA process for every file and both views. The Swift test compares
this with the permissions topogen's reader derives from the same file, pod class by pod class
and address range by address range; this script knows nothing of the reader.

Output: {"pods": [{"key", "namespace", "name", "role", "labels"}],
         "files": [{"policies": FILE,
                    "egress":  [{"from": POD, "to": END, "conns": CONNS}, ...],
                    "ingress": [{"from": END, "to": POD, "conns": CONNS}, ...]}]}
where POD is "namespace/name", END a POD or {"family": 4|6, "low": "N", "high": "N"} (decimal
strings: IPv6 needs 128 bits), and CONNS {"TCP": [[lo, hi], ...], "UDP": [...], "SCTP": [...],
"other": true|false} ("other": every protocol without ports). Every pod of the fixture is listed
in both views, as source of egress and destination of ingress, paired with every other pod and
every address range, including pairs NCA denies (empty CONNS). Address ranges are cut at every
edge NCA's output names, so NCA allows the same connections across each range.
Exit 0 with the JSON; 2 on a usage error, NCA failure or output that does not parse.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import k8s_oracle as oracle  # noqa: E402


def run_views(nca, tmp, cluster, files):
    """One NCA process, one connectivity map per file. Returns the map texts."""
    outs = [os.path.join(tmp, f'map{i}.txt') for i in range(len(files))]
    scheme = {'namespaceList': cluster, 'podList': cluster,
              'networkConfigList': [{'name': f'v{i}', 'networkPolicyList': [f]} for i, f in enumerate(files)],
              'queries': [{'name': f'q{i}', 'connectivityMap': [f'v{i}'],
                           'outputConfiguration': {'outputFormat': 'txt_no_fw_rules', 'outputPath': out,
                                                   'excludeIPv6Range': False}}
                          for i, out in enumerate(outs)]}
    path = os.path.join(tmp, 'scheme.yaml')
    with open(path, 'w') as f:
        yaml.safe_dump(scheme, f)
    try:
        r = subprocess.run([nca, '--scheme', path], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise oracle.Usage(f'cannot run nca: {e}')
    errors = [ln for ln in (r.stdout + r.stderr).splitlines() if re.search(r'(?:^|\s)(?:Parse )?Error:', ln)]
    if r.returncode != 0 or errors or not all(map(os.path.exists, outs)):
        raise oracle.Usage(f'nca failed (rc {r.returncode}):\n{r.stderr.strip()}\n{r.stdout.strip()}')
    texts = []
    for out in outs:
        with open(out) as f:
            texts.append(f.read())
    return texts


def conns_json(c):
    c_other, names = c.other
    if names:
        raise oracle.Usage(f'unexpected protocol set {c} (NetworkPolicies allow all or none of the portless ones)')
    return {**{p: [list(iv) for iv in ivs] for p, ivs in zip(oracle.PORT_PROTOS, c.ports)}, 'other': c_other}


def main():
    ap = argparse.ArgumentParser(description="NCA's connectivity per pod, for the k8s reader's cross-check")
    ap.add_argument('--policies', action='append', required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--args-file')
    g.add_argument('--args', dest='args_string')
    ap.add_argument('--nca', default=os.path.join(os.path.dirname(sys.executable), 'nca'))
    argv = sys.argv[1:]
    if '--args' in argv[:-1]:   # `--args "--with-sqs ..."`: its value starts with "--"
        i = argv.index('--args')
        argv[i:i + 2] = ['--args=' + argv[i + 1]]
    o = ap.parse_args(argv)
    targs = oracle.read_args(o.args_file, o.args_string)
    a = oracle.load_topology(targs)
    pods = oracle.fixture(a)
    by_key = {p.key: p for p in pods}
    with tempfile.TemporaryDirectory(prefix='k8s-diff-oracle-') as tmp:
        cluster = os.path.join(tmp, 'cluster.yaml')
        with open(cluster, 'w') as f:
            f.write(oracle.fixture_yaml(pods))
        files = []
        for n, path in enumerate(o.policies):
            docs, _ = oracle.read_policies(path, set())
            for keep in ('Egress', 'Ingress'):
                files.append(os.path.join(tmp, f'{n}-{keep.lower()}.yaml'))
                with open(files[-1], 'w') as f:
                    yaml.safe_dump_all(oracle.one_side(docs, keep), f, sort_keys=False)
        texts = run_views(o.nca, tmp, cluster, files)
    maps = [oracle.parse_map(t, by_key) for t in texts]
    # One partition of the address space: every edge NCA names.
    bounds = {4: {0, oracle.MAXIP[4] + 1}, 6: {0, oracle.MAXIP[6] + 1}}
    for lines in maps:
        for s, d, _ in lines:
            for e in (s, d):
                if isinstance(e, list):
                    for v, lo, hi in e:
                        bounds[v] |= {lo, hi + 1}
    atoms = [(v, lo, nxt - 1) for v in (4, 6) for lo, nxt in zip(sorted(bounds[v]), sorted(bounds[v])[1:])]

    def expand(e):
        return [e] if isinstance(e, oracle.Pod) else [t for t in atoms if oracle.in_addrs(e)(t)]

    def end(e):
        return e.key if isinstance(e, oracle.Pod) else {'family': e[0], 'low': str(e[1]), 'high': str(e[2])}

    all_pods = sorted(by_key.values(), key=lambda p: p.key)
    result = {'pods': [{'key': p.key, 'namespace': p.ns, 'name': p.name, 'role': p.role, 'labels': p.labels}
                       for p in all_pods], 'files': []}
    for n, path in enumerate(o.policies):
        entry = {'policies': path}
        for view, lines in (('egress', maps[2 * n]), ('ingress', maps[2 * n + 1])):
            got = defaultdict(lambda: oracle.NONE)
            for s, d, c in lines:
                for se in expand(s):
                    for de in expand(d):
                        got[se, de] = got[se, de] | c
            rows = []
            for p in all_pods:
                for q in all_pods + atoms:
                    if q is p:
                        continue
                    s, d = (p, q) if view == 'egress' else (q, p)
                    rows.append({'from': end(s), 'to': end(d), 'conns': conns_json(got[s, d])})
            entry[view] = rows
        result['files'].append(entry)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except oracle.Usage as e:
        print(f'k8s diff oracle: error: {e}', file=sys.stderr)
        sys.exit(2)
