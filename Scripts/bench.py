#!/usr/bin/env python3
"""Benchmarks of topogen, beside Aerleon: wall time and peak memory of real invocations.

Usage: Scripts/bench.sh [--runs N] [--aerleon-runs N] [--quick] [--no-aerleon] [--keep DIR]
       Scripts/bench.py --self-test [--binary PATH]   (the inputs' check, seconds, no Aerleon)

Every measurement is a separate process: wall time from start to exit, peak memory the child's
ru_maxrss (from wait4). A case runs N times (default 5); the table shows the median wall time
and the largest peak. Before each run the benchmark flushes what it wrote itself (`sync`), so
that topogen, which flushes its file system before renaming its files into place, does not also
wait for the topology files and Aerleon's output. Aerleon runs --aerleon-runs times (default: 3 times for the reference
installation and --quick, once at 1,000 and 10,000, where one run takes from seconds to
minutes), and a run is stopped after --aerleon-timeout seconds (120): its time is then a lower
bound, marked '>'.

Cases (topology files written by this script into a temporary directory):
- reference: the reference installation (no --topology);
- pools-N: N worker pools, each with infrastructure CIDRs and a port of its own. For iptables,
  nftables, aws and terraform the pools are external (and 8 in-cluster ones in 4 namespaces,
  told apart by a label); for k8s, which writes rules for in-cluster pools only, they are all
  in-cluster, in 4 namespaces told apart by a label. External pools have no CIDR of their own:
  the load balancer's security group would need a rule per pool CIDR, over AWS's cap of 1,000.
- endpoints-N: N infrastructure endpoints on 6443 (3 in 4 IPv4 /32, the rest IPv6 /128), 50 to
  an in-cluster pool (N/50 pools in 4 namespaces told apart by a label), so that every target,
  AWS's security groups included, can hold them (aws.maxRules at AWS's largest quota, 1,000).
"All targets" is one run per target, summed: the sum of the five medians, and the largest of
the five peaks (the runs happen one after another).

Aerleon (PyPI aerleon==1.18.0, installed into .venv-bench when missing) gets the equivalent
policy, built from `topogen flows --target T --format json` for the same file: every flow
becomes an egress term at its source and an ingress term at its destination, for the nodes
that are hosts (topogen's components: server, drain, scheduler, vcs-gateway, each pool's
workers); the other end is the node's addresses (any address when it has none, as topogen
writes it). One policy file per host role, as topogen writes one firewall per host role; k8s
ingress terms carry only a source and egress terms only a destination, as Aerleon requires.
iptables gets an inet and an inet6 filter per direction (topogen writes both families);
nftables one mixed filter per direction. `aclgen --max_renderers 1` renders one target's
policies per run, so each target is timed alone, as topogen is.

Targets (the issue's), checked and printed as met or MISSED; the script exits 1 when one is
missed:
- reference installation: under 20 ms per target (median);
- 10,000 endpoints: all targets under 1 s together, and every peak under 150 MiB (the issue
  sets this target for endpoints; pools-10000, which writes 10,008 host files per host target,
  is printed beside it for information);
- growth from 1,000 to 10,000 no faster than n log n: the marginal time (the median minus the
  reference installation's median, which is start-up and the fixed work) of all targets
  together grows at most 10 * log(10000) / log(1000) = 13.3 times;
- at least 20 times faster than Aerleon at 10,000, for each of iptables, nftables and k8s;
- the diff cases' targets (1 s, 200 MiB).
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build", "release", "topogen")
CHECKERS = os.path.join(ROOT, "Tests", "Checkers")
VENV = os.path.join(ROOT, ".venv-bench")
AERLEON = "aerleon==1.18.0"
ACLGEN = os.path.join(VENV, "bin", "aclgen")

TARGETS = ["k8s", "iptables", "nftables", "aws", "terraform"]
AERLEON_TARGETS = ["iptables", "nftables", "k8s"]

# (name, target in seconds, target in MiB): the diff issue's targets, printed beside the figures.
DIFF_TARGETS = {
    "diff-iptables-100k": (1.0, 200),
    "diff-aws-10k": (1.0, 200),
}
REFERENCE_TARGET = 0.020  # seconds, per target
SCALE_TIME_TARGET = 1.0  # seconds, all targets together at 10,000
SCALE_MEMORY_TARGET = 150  # MiB
AERLEON_FACTOR = 20
IN_CLUSTER_POOLS = 8
NAMESPACES = 4


# MARK: Measuring

# A small Python that runs one command and prints its wall time, peak memory and exit status.
# Linux carries a process's peak resident memory over fork and exec (ru_maxrss starts at the
# parent's), so a command started from this script, once it has grown to hundreds of MiB
# building Aerleon's policies, would report this script's peak; started from this runner
# (`python3 -S`, about 9 MiB), it reports its own.
RUNNER = r"""
import os, sys, time
sink = os.open(os.devnull, os.O_WRONLY)
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    try:
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(arguments, runs, timeout=None):
    """Runs the command `runs` times; returns (median s, min s, max peak MiB, exit statuses).
    A run still going after `timeout` seconds is killed, its status "timeout", and no more
    runs follow: its wall time is then a lower bound, and its peak unknown (0)."""
    walls, peaks, statuses = [], [], set()
    for _ in range(runs):
        # Flush what the benchmark itself wrote (topology files, Aerleon's policies and
        # output, removed directories) before the clock starts: topogen flushes its file
        # system before renaming its files into place (syncfs), and would otherwise wait for
        # the harness's writes too, up to twice its own time. Aerleon flushes nothing.
        os.sync()
        runner = subprocess.Popen([sys.executable, "-S", "-c", RUNNER] + list(arguments),
                                  stdout=subprocess.PIPE, start_new_session=True)
        try:
            output, _ = runner.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, 9)
            runner.communicate()
            walls.append(float(timeout))
            peaks.append(0.0)
            statuses.add("timeout")
            break
        wall, peak, status = output.split()
        walls.append(float(wall))
        peaks.append(int(peak) / 1024)  # KiB on Linux
        statuses.add(int(status))
    return statistics.median(walls), min(walls), max(peaks), statuses


def generate(script, arguments, path):
    with open(path, "w") as output:
        subprocess.run([sys.executable, os.path.join(CHECKERS, script)] + arguments,
                       stdout=output, check=True)
    return path


# MARK: Scaled topologies

def address4(value):
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def pools_topology(n, in_cluster_all):
    """A topology file (as a dict) with `n` worker pools `pool-00000`...: each pool's
    infrastructure is a /28 of its own in 172.16.0.0/12 (every other /28, so that none are
    adjacent) on a port of its own. With `in_cluster_all`, every pool is in-cluster (k8s writes
    rules for those only); otherwise the first 8 are and the rest are external. In-cluster
    pools share 4 namespaces and carry the label `spacelift.io/pool: NAME`, which tells
    pools of one namespace apart."""
    pools = []
    for i in range(n):
        name = f"pool-{i:05d}"
        pool = {"name": name}
        if in_cluster_all or i < IN_CLUSTER_POOLS:
            pool["placement"] = "in-cluster"
            pool["kubernetes"] = {"namespace": f"spacelift-workers-{i % NAMESPACES}",
                                  "labels": {"spacelift.io/pool": name}}
        else:
            pool["placement"] = "external"
        pool["infrastructure"] = {"ports": [20000 + i % 40000],
                                  "cidrs": [f"{address4(0xAC100000 + 32 * i)}/28"]}
        pools.append(pool)
    return {"aws": {"maxRules": 1000}, "workerPools": pools}


ENDPOINTS_PER_POOL = 50


def endpoints_topology(n):
    """A topology file (as a dict) with `n` infrastructure endpoints on 6443, 50 to a pool
    (`edge-0000`, ...; at most 50 + the pool's other rules stay under AWS's default quota of 60
    per group): three in four an IPv4 /32 (every other address from 10.64.0.0), the rest an IPv6
    /128 in 2001:db8::/32. The pools are in-cluster, in 4 namespaces told apart by a label."""
    pools = []
    for start in range(0, n, ENDPOINTS_PER_POOL):
        cidrs = []
        for i in range(start, min(n, start + ENDPOINTS_PER_POOL)):
            if i % 4 == 3:
                cidrs.append(f"2001:db8:{i >> 16:x}:{i & 0xffff:x}::1/128")
            else:
                cidrs.append(f"{address4(0x0A400000 + 2 * i)}/32")
        name = f"edge-{start // ENDPOINTS_PER_POOL:04d}"
        pools.append({
            "name": name, "placement": "in-cluster",
            "kubernetes": {"namespace": f"spacelift-workers-{len(pools) % NAMESPACES}",
                           "labels": {"spacelift.io/pool": name}},
            "infrastructure": {"ports": [6443], "cidrs": cidrs},
        })
    return {"aws": {"maxRules": 1000}, "workerPools": pools}


def write_json(value, path):
    with open(path, "w") as output:
        json.dump(value, output, indent=1)
        output.write("\n")
    return path


def topology_files(kind, n, directory):
    """{target: path} of the topology file each target is measured with."""
    if kind == "pools":
        hosts = write_json(pools_topology(n, False), os.path.join(directory, f"pools-{n}.json"))
        k8s = write_json(pools_topology(n, True), os.path.join(directory, f"pools-{n}-k8s.json"))
        return {target: k8s if target == "k8s" else hosts for target in TARGETS}
    path = write_json(endpoints_topology(n), os.path.join(directory, f"endpoints-{n}.json"))
    return {target: path for target in TARGETS}


# MARK: The equivalent Aerleon policy

def flows(binary, target, topology):
    """`topogen flows --target T --format json` of the file (None: the reference installation)."""
    arguments = [binary, "flows", "--target", target, "--format", "json"]
    if topology:
        arguments += ["--topology", topology]
    result = subprocess.run(arguments, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"topogen flows --target {target} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def token(node):
    return "N_" + node.upper().replace("-", "_")


def service_token(transport, port):
    end = port.get("endPort")
    return f"P{port['port']}" + (f"_{end}" if end else "") + f"_{transport.upper()}"


def aerleon_policy(document, target):
    """The Aerleon definitions and policies equivalent to `topogen flows` output `document`
    for `target` (iptables, nftables or k8s): (definitions, {role: policy}, terms), where
    `terms` maps each flow id to the number of terms it became. Dicts ready for YAML."""
    addresses = document["addresses"]
    networks = {"ANY": {"values": [{"address": "0.0.0.0/0"}, {"address": "::/0"}]}}
    for node, cidrs in sorted(addresses.items()):
        networks[token(node)] = {"values": [{"address": cidr} for cidr in cidrs]}
    services = {}
    ingress, egress, terms = {}, {}, {}
    for index, flow in enumerate(document["flows"]):
        by_transport = {}
        for port in flow["ports"]:
            by_transport.setdefault(port["transport"], []).append(port)
        terms[flow["id"]] = 0
        for transport, ports in sorted(by_transport.items()):
            names = []
            for port in ports:
                name = service_token(transport, port)
                end = port.get("endPort")
                services[name] = [{"port": f"{port['port']}-{end}" if end else port["port"],
                                   "protocol": transport}]
                names.append(name)
            suffix = "" if len(by_transport) == 1 else transport[0]
            base = {"comment": flow["id"], "protocol": transport,
                    "destination-port": " ".join(names), "action": "accept"}
            source, destination = flow["from"], flow["to"]
            if source not in addresses:  # a host: its egress
                egress.setdefault(source, []).append(dict(
                    {"name": f"f{index}{suffix}e",
                     "destination-address": token(destination) if destination in addresses
                     else "ANY"}, **base))
                terms[flow["id"]] += 1
            if destination not in addresses:  # a host: its ingress
                ingress.setdefault(destination, []).append(dict(
                    {"name": f"f{index}{suffix}i",
                     "source-address": token(source) if source in addresses else "ANY"},
                    **base))
                terms[flow["id"]] += 1
    headers = {
        "iptables": [("ingress", "INPUT DROP inet"), ("ingress", "INPUT DROP inet6"),
                     ("egress", "OUTPUT DROP inet"), ("egress", "OUTPUT DROP inet6")],
        "nftables": [("ingress", "mixed input"), ("egress", "mixed output")],
        "k8s": [("ingress", "INGRESS"), ("egress", "EGRESS")],
    }[target]
    policies = {}
    for role in sorted(set(ingress) | set(egress)):
        filters = []
        for direction, options in headers:
            role_terms = (ingress if direction == "ingress" else egress).get(role, [])
            if role_terms:
                filters.append({"header": {"targets": {target: options},
                                           "comment": f"{role} {direction}"},
                                "terms": role_terms})
        policies[role] = {"filters": filters}
    return {"networks": networks, "services": services}, policies, terms


def yaml_scalar(value):
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)  # a double-quoted YAML scalar


def to_yaml(value, indent=0):
    """Block-style YAML of dicts, lists and scalars, as people write Aerleon's files."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}{key}: {yaml_scalar(item) if item != {} else '{}'}")
    else:
        for item in value:
            if isinstance(item, dict):
                text = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {text[indent + 2:]}")
            else:
                lines.append(f"{pad}- {yaml_scalar(item)}")
    return "\n".join(lines)


def write_aerleon(binary, target, topology, directory):
    """Writes the Aerleon inputs for one target into `directory` (`def/`, `policies/pol/`);
    returns (the number of flows, the number of flows that became at least one term)."""
    document = flows(binary, target, topology)
    definitions, policies, terms = aerleon_policy(document, target)
    os.makedirs(os.path.join(directory, "def"))
    os.makedirs(os.path.join(directory, "policies", "pol"))
    with open(os.path.join(directory, "def", "topology.yaml"), "w") as output:
        output.write(to_yaml(definitions) + "\n")
    for role, policy in policies.items():
        with open(os.path.join(directory, "policies", "pol", f"{role}.yaml"), "w") as output:
            output.write(to_yaml(policy) + "\n")
    return len(document["flows"]), sum(1 for count in terms.values() if count > 0)


def ensure_aerleon():
    """Installs Aerleon into .venv-bench when it is not there; returns aclgen's path."""
    if os.access(ACLGEN, os.X_OK):
        return ACLGEN
    print(f"installing {AERLEON} into {VENV} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "--quiet", AERLEON], check=True)
    return ACLGEN


def aclgen_arguments(directory):
    return [ACLGEN, "--base_directory", os.path.join(directory, "policies"),
            "--definitions_directory", os.path.join(directory, "def"),
            "--output_directory", os.path.join(directory, "out"), "--max_renderers", "1"]


# MARK: The benchmark

def milliseconds(seconds):
    return f"{seconds * 1000:.1f}ms" if seconds < 10 else f"{seconds:.1f}s"


def verdict(ok):
    return "met" if ok else "MISSED"


def run_scaled(options, binary, work, failures):
    """Measures the reference installation and the scaled cases; returns the results:
    {(case, target): (median, peak, statuses)} for topogen and for Aerleon."""
    scales = [30, 300] if options.quick else [1000, 10000]
    cases = [("reference", None, None)]
    for kind in ["pools", "endpoints"]:
        for n in scales:
            cases.append((f"{kind}-{n}", kind, n))
    topogen, aerleon = {}, {}
    for case, kind, n in cases:
        files = topology_files(kind, n, work) if kind else {t: None for t in TARGETS}
        for target in TARGETS:
            out = os.path.join(work, f"out-{case}-{target}")
            arguments = [binary, "generate", "--target", target, "-o", out]
            if files[target]:
                arguments += ["--topology", files[target]]
            median, _, peak, statuses = measure(arguments, options.runs)
            topogen[case, target] = (median, peak, statuses)
            shutil.rmtree(out, ignore_errors=True)
            print(f"  topogen {case} {target}: {milliseconds(median)}, {peak:.1f} MiB, "
                  f"exit {sorted(statuses)}", file=sys.stderr)
        if options.no_aerleon:
            continue
        for target in AERLEON_TARGETS:
            directory = os.path.join(work, f"aerleon-{case}-{target}")
            total, covered = write_aerleon(binary, target, files[target], directory)
            if covered != total:
                failures.append(f"{case} {target}: {total - covered} flows without an Aerleon term")
            runs = options.aerleon_runs or (1 if n and n >= 1000 else min(options.runs, 3))
            median, _, peak, statuses = measure(aclgen_arguments(directory), runs,
                                                options.aerleon_timeout)
            aerleon[case, target] = (median, peak, statuses, runs)
            shutil.rmtree(directory, ignore_errors=True)
            print(f"  aerleon {case} {target}: {milliseconds(median)}, {peak:.1f} MiB, "
                  f"{runs} runs, {total} flows", file=sys.stderr)
    return cases, scales, topogen, aerleon


def aerleon_cell(entry):
    """Aerleon's median and peak, marked '>' when a run reached the timeout."""
    median, peak, statuses, runs = entry
    mark = ">" if "timeout" in statuses else ""
    return f"{mark + milliseconds(median):>9} {peak:>6.1f}MiB {runs:>4}"


def ratio_cell(theirs, ours, timed_out):
    return f"{'>' if timed_out else ''}{theirs / ours:.1f}x"


def print_scaled(cases, scales, topogen, aerleon, options, failures):
    header = (f"{'case':<16} {'target':<10} {'topogen':>9} {'peak':>9}   "
              f"{'Aerleon':>9} {'peak':>9} {'runs':>4}  {'ratio':>7}")
    print(header)
    print("-" * len(header))
    for case, kind, n in cases:
        for target in TARGETS:
            median, peak, statuses = topogen[case, target]
            line = f"{case:<16} {target:<10} {milliseconds(median):>9} {peak:>6.1f}MiB"
            if (case, target) in aerleon:
                entry = aerleon[case, target]
                line += f"   {aerleon_cell(entry)}  "
                line += f"{ratio_cell(entry[0], median, 'timeout' in entry[2]):>7}"
                if entry[2] - {0, "timeout"}:
                    line += f"  (Aerleon exit {sorted(map(str, entry[2]))})"
                    failures.append(f"Aerleon failed on {case} {target}")
            if statuses != {0}:
                line += f"  (exit {sorted(statuses)})"
                failures.append(f"topogen {case} {target}: exit {sorted(statuses)}")
            print(line)
        if all((case, t) in aerleon for t in AERLEON_TARGETS):
            ours = sum(topogen[case, t][0] for t in AERLEON_TARGETS)
            our_peak = max(topogen[case, t][1] for t in AERLEON_TARGETS)
            three = [aerleon[case, t] for t in AERLEON_TARGETS]
            statuses = set().union(*(entry[2] for entry in three))
            theirs = (sum(e[0] for e in three), max(e[1] for e in three), statuses,
                      min(e[3] for e in three))
            print(f"{case:<16} {'3 targets':<10} {milliseconds(ours):>9} {our_peak:>6.1f}MiB   "
                  f"{aerleon_cell(theirs)}  "
                  f"{ratio_cell(theirs[0], ours, 'timeout' in statuses):>7}")
        total = sum(topogen[case, t][0] for t in TARGETS)
        peak = max(topogen[case, t][1] for t in TARGETS)
        print(f"{case:<16} {'all 5':<10} {milliseconds(total):>9} {peak:>6.1f}MiB")
    print()
    print("Targets:")
    checks = []
    informational = []
    for target in TARGETS:
        median = topogen["reference", target][0]
        checks.append((f"reference installation, {target}: {milliseconds(median)} < 20 ms",
                       median < REFERENCE_TARGET))
    large, small = scales[-1], scales[0]
    fixed = sum(topogen["reference", t][0] for t in TARGETS)
    for kind in ["pools", "endpoints"]:
        case = f"{kind}-{large}"
        total = sum(topogen[case, t][0] for t in TARGETS)
        peak = max(topogen[case, t][1] for t in TARGETS)
        if kind == "endpoints":
            checks.append((f"{case}, all targets: {milliseconds(total)} < 1 s, "
                           f"peak {peak:.1f} MiB < {SCALE_MEMORY_TARGET} MiB",
                           total < SCALE_TIME_TARGET and peak < SCALE_MEMORY_TARGET))
        else:
            informational.append(f"{case}, all targets: {milliseconds(total)}, "
                                 f"peak {peak:.1f} MiB (no target: 10,008 host files a target)")
        low = sum(topogen[f"{kind}-{small}", t][0] for t in TARGETS) - fixed
        high = total - fixed
        bound = (large / small) * math.log(large) / math.log(small)
        growth = high / low if low > 0 else float("inf")
        checks.append((f"{kind} growth {small:,} -> {large:,}, all targets minus the reference "
                       f"installation's {milliseconds(fixed)}: {milliseconds(low)} -> "
                       f"{milliseconds(high)}, x{growth:.1f} <= x{bound:.1f}",
                       growth <= bound))
        for target in AERLEON_TARGETS:
            if (case, target) not in aerleon:
                continue
            theirs, _, statuses, _ = aerleon[case, target]
            ratio = theirs / topogen[case, target][0]
            bound_mark = ">" if "timeout" in statuses else ""
            checks.append((f"{case}, {target}: Aerleon/topogen {bound_mark}x{ratio:.0f} "
                           f">= x{AERLEON_FACTOR}", ratio >= AERLEON_FACTOR))
    for label, ok in checks:
        print(f"  {verdict(ok):<7}{label}")
        if not ok:
            failures.append(label)
    for label in informational:
        print(f"  {'info':<7}{label}")
    if options.quick:
        print("  (--quick: scales 30 and 300, not the issue's 1,000 and 10,000)")


def run_diffs(options, binary, work, failures):
    save = generate("gen_iptables_save.py", ["--rules", "100000"], os.path.join(work, "rules.v4"))
    groups = generate("gen_security_groups.py", ["--rules", "10000"],
                      os.path.join(work, "groups.json"))
    cases = []
    examples = os.path.join(ROOT, "examples")
    for target, example in [("terraform", "aws-two-pools"), ("iptables", "k8s-gateway")]:
        out = os.path.join(work, f"out-{example}")
        cases.append((f"generate-{example}", f"generate --target {target}, {example}.yaml",
                      [binary, "generate", "--target", target, "--topology",
                       os.path.join(examples, f"{example}.yaml"), "-o", out], {0}))
    cases.append(("graph-k8s-gateway", "graph --format dot, k8s-gateway.yaml",
                  [binary, "graph", "--format", "dot", "--topology",
                   os.path.join(examples, "k8s-gateway.yaml")], {0}))
    cases += [
        ("diff-iptables-100k", f"diff iptables-save, 100,000 rules ({os.path.getsize(save) >> 20} MiB)",
         [binary, "diff", "--target", "iptables", "--role", "server", "--against", save], {0, 1}),
        ("diff-aws-10k", f"diff describe-security-groups, 10,000 rules ({os.path.getsize(groups) >> 20} MiB)",
         [binary, "diff", "--target", "aws", "--against", groups], {0, 1}),
    ]
    header = f"{'case':<58} {'median':>9} {'fastest':>9} {'peak':>9}  target"
    print(header)
    print("-" * len(header))
    for key, label, arguments, accepted in cases:
        median, fastest, peak, statuses = measure(arguments, options.runs)
        target = DIFF_TARGETS.get(key)
        note = ""
        if target:
            ok = median < target[0] and peak < target[1]
            note = f"< {target[0]:g} s, < {target[1]} MiB: {verdict(ok)}"
            if not ok:
                failures.append(label)
        if not statuses <= accepted:
            note += f" (unexpected exit status {sorted(statuses)})"
            failures.append(f"{label}: exit status {sorted(statuses)}")
        print(f"{label:<58} {median * 1000:>7.1f}ms {fastest * 1000:>7.1f}ms {peak:>6.1f}MiB  {note}")


def load():
    try:
        with open("/proc/loadavg") as source:
            return source.read().split()[0]
    except OSError:
        return "?"


# MARK: The inputs' check

def self_test(binary):
    """Checks the inputs: every generated topology file is accepted by `topogen flows` for every
    target, and every flow of the three Aerleon targets becomes at least one term, with the
    flow's id as its comment. Fast (small N), and needs neither Aerleon nor the network."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="topogen-bench-test-") as work:
        for kind, n in [("pools", 12), ("endpoints", 12), (None, None)]:
            files = topology_files(kind, n, work) if kind else {t: None for t in TARGETS}
            for target in TARGETS:
                try:
                    document = flows(binary, target, files[target])
                except RuntimeError as error:
                    problems.append(f"{kind}-{n} {target}: {error}")
                    continue
                pool_flows = [f for f in document["flows"] if f["from"].startswith("worker-")]
                if kind == "pools" and len({f["from"] for f in pool_flows}) != n:
                    problems.append(f"pools-{n} {target}: flows of "
                                    f"{len({f['from'] for f in pool_flows})} pools, not {n}")
                endpoints = sum(len(cidrs) for node, cidrs in document["addresses"].items()
                                if node.startswith("infrastructure-edge-"))
                if kind == "endpoints" and endpoints != n:
                    problems.append(f"endpoints-{n} {target}: not {n} infrastructure addresses")
                if target not in AERLEON_TARGETS:
                    continue
                _, policies, terms = aerleon_policy(document, target)
                comments = {term["comment"] for policy in policies.values()
                            for f in policy["filters"] for term in f["terms"]}
                ids = [flow["id"] for flow in document["flows"]]
                if comments != set(ids) or len(terms) != len(ids):
                    problems.append(f"{kind}-{n} {target}: {len(ids)} flows, "
                                    f"{len(comments)} in the Aerleon policy")
                directory = os.path.join(work, f"aerleon-{kind}-{target}")
                write_aerleon(binary, target, files[target], directory)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print("bench inputs: " + ("ok" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each topogen case (5)")
    parser.add_argument("--aerleon-runs", type=int, default=0,
                        help="runs of each Aerleon case (default: 3 for the reference installation "
                             "and --quick, 1 at 1,000 and 10,000)")
    parser.add_argument("--aerleon-timeout", type=float, default=120, metavar="SECONDS",
                        help="stop an Aerleon run after this long; its time is then a lower "
                             "bound (120)")
    parser.add_argument("--quick", action="store_true",
                        help="scales 30 and 300 instead of 1,000 and 10,000, and 3 runs")
    parser.add_argument("--no-aerleon", action="store_true", help="leave Aerleon out")
    parser.add_argument("--keep", metavar="DIR", help="write the inputs to DIR and keep them")
    parser.add_argument("--binary", default=BINARY, help="the topogen to measure")
    parser.add_argument("--self-test", action="store_true",
                        help="only check the benchmark's inputs (small N, no Aerleon)")
    options = parser.parse_args()
    if not os.access(options.binary, os.X_OK):
        sys.exit(f"error: no release binary at '{options.binary}'; run Scripts/bench.sh")
    if options.self_test:
        sys.exit(self_test(options.binary))
    if options.quick and "--runs" not in sys.argv:
        options.runs = 3
    if not options.no_aerleon:
        ensure_aerleon()
    if options.keep:
        os.makedirs(options.keep, exist_ok=True)
    work = options.keep or tempfile.mkdtemp(prefix="topogen-bench-")
    failures = []
    started = time.perf_counter()
    print(f"topogen benchmarks: release build, {options.runs} runs of each topogen case, "
          f"{os.cpu_count()} CPUs, load {load()} at the start; median wall time, largest peak "
          f"memory (ru_maxrss)", flush=True)
    print()
    cases, scales, topogen, aerleon = run_scaled(options, options.binary, work, failures)
    print_scaled(cases, scales, topogen, aerleon, options, failures)
    print()
    run_diffs(options, options.binary, work, failures)
    print()
    print(f"{time.perf_counter() - started:.0f} s in all; load {load()} at the end")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} targets missed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
