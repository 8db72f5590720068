#!/usr/bin/env python3
"""Benchmarks of topogen: wall time and peak memory of real invocations of the release binary.

Usage: Scripts/bench.sh [--runs N]   (builds the release binary, then runs this)

Each case runs N times (default 5); the table shows the median and the fastest wall time and
the largest peak resident memory (ru_maxrss of the child, from wait4). Inputs are generated
into a temporary directory by the generators in Tests/Checkers/.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build", "release", "topogen")
CHECKERS = os.path.join(ROOT, "Tests", "Checkers")

# (name, target in seconds, target in MiB): the targets, printed beside the figures.
TARGETS = {
    "diff-iptables-100k": (1.0, 200),
    "diff-aws-10k": (1.0, 200),
}


def measure(arguments, runs):
    """Runs the command `runs` times; returns (median s, min s, max peak MiB, exit statuses)."""
    walls, peaks, statuses = [], [], set()
    for _ in range(runs):
        with open(os.devnull, "wb") as sink:
            start = time.perf_counter()
            process = subprocess.Popen(arguments, stdout=sink, stderr=sink)
            _, status, usage = os.wait4(process.pid, 0)
            walls.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
        statuses.add(os.waitstatus_to_exitcode(status))
    return statistics.median(walls), min(walls), max(peaks), statuses


def generate(script, arguments, path):
    with open(path, "w") as output:
        subprocess.run([sys.executable, os.path.join(CHECKERS, script)] + arguments,
                       stdout=output, check=True)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"error: no release binary at '{BINARY}'; run Scripts/bench.sh")
    work = tempfile.mkdtemp(prefix="topogen-bench-")
    save = generate("gen_iptables_save.py", ["--rules", "100000"], os.path.join(work, "rules.v4"))
    groups = generate("gen_security_groups.py", ["--rules", "10000"],
                      os.path.join(work, "groups.json"))
    cases = []
    for target in ["k8s", "iptables", "nftables", "aws", "terraform"]:
        out = os.path.join(work, f"out-{target}")
        cases.append((f"generate-{target}", f"generate --target {target}, reference installation",
                      [BINARY, "generate", "--target", target, "-o", out], {0}))
    examples = os.path.join(ROOT, "examples")
    for target, example in [("terraform", "aws-two-pools"), ("iptables", "k8s-gateway")]:
        out = os.path.join(work, f"out-{example}")
        cases.append((f"generate-{example}", f"generate --target {target}, {example}.yaml",
                      [BINARY, "generate", "--target", target, "--topology",
                       os.path.join(examples, f"{example}.yaml"), "-o", out], {0}))
    cases.append(("graph-k8s-gateway", "graph --format dot, k8s-gateway.yaml",
                  [BINARY, "graph", "--format", "dot", "--topology",
                   os.path.join(examples, "k8s-gateway.yaml")], {0}))
    cases += [
        ("diff-iptables-100k", f"diff iptables-save, 100,000 rules ({os.path.getsize(save) >> 20} MiB)",
         [BINARY, "diff", "--target", "iptables", "--role", "server", "--against", save], {0, 1}),
        ("diff-aws-10k", f"diff describe-security-groups, 10,000 rules ({os.path.getsize(groups) >> 20} MiB)",
         [BINARY, "diff", "--target", "aws", "--against", groups], {0, 1}),
    ]
    print(f"topogen benchmarks: release build, {options.runs} runs each, "
          f"{os.cpu_count()} CPUs; median and fastest wall time, largest peak memory")
    print()
    header = f"{'case':<58} {'median':>9} {'fastest':>9} {'peak':>9}  target"
    print(header)
    print("-" * len(header))
    failed = False
    for key, label, arguments, accepted in cases:
        median, fastest, peak, statuses = measure(arguments, options.runs)
        target = TARGETS.get(key)
        verdict = ""
        if target:
            ok = median < target[0] and peak < target[1]
            verdict = f"< {target[0]:g} s, < {target[1]} MiB: {'met' if ok else 'MISSED'}"
            failed |= not ok
        if not statuses <= accepted:
            verdict += f" (unexpected exit status {sorted(statuses)})"
            failed = True
        print(f"{label:<58} {median * 1000:>7.1f}ms {fastest * 1000:>7.1f}ms {peak:>6.1f}MiB  {verdict}")
    subprocess.run(["rm", "-rf", work])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
