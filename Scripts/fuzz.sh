#!/usr/bin/env bash
# Fuzzes topogen's readers with libFuzzer: the topology file decoder (YAML and JSON, then the
# resolver) and every reader of `topogen diff` (Kubernetes YAML/JSON, iptables-save, nft text
# and JSON, AWS describe-security-groups JSON, Terraform HCL), through the same public entry
# points the executable calls (Tests/Fuzz/Harnesses/Harness.swift).
#
#   Scripts/fuzz.sh [--seconds N] [--release] [HARNESS...]
#
# HARNESS is one of: topology-yaml topology-json k8s iptables nftables nftables-json aws
# terraform (default: all), each fuzzed for N seconds (default 60). The fuzzer is the
# `topogen-fuzz` target built with -sanitize=fuzzer into .build-fuzz (debug by default, which
# builds in about a minute and a half; --release builds for several minutes and runs several
# times faster). Seeds are gathered from the goldens, the examples and Tests/Fixtures into
# .build-fuzz/seeds/HARNESS at every run; what the fuzzer learns is kept in
# .build-fuzz/corpus/HARNESS for the next run.
#
# A finding is a crash, a stack overflow, an input that takes over 10 s (-timeout), or a process
# over 2 GiB (-rss_limit_mb) or a single allocation over 512 MiB (-malloc_limit_mb); inputs are
# at most 64 KiB (-max_len). Refusing an input with a diagnostic is not a finding. The input of
# a finding is written to .build-fuzz/findings/HARNESS/ and the script exits 1; keep it in
# Tests/Fixtures/fuzz/HARNESS/ once fixed (FuzzRegressionTests replays that folder), and replay
# it with `swift run topogen-fuzz HARNESS FILE`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=60
configuration=debug
harnesses=()
all=(topology-yaml topology-json k8s iptables nftables nftables-json aws terraform)
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --release) configuration=release; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "error: unknown option '$1'" >&2; exit 64 ;;
        *) harnesses+=("$1"); shift ;;
    esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
for harness in "${harnesses[@]}"; do
    case " ${all[*]} " in
        *" $harness "*) ;;
        *) echo "error: unknown harness '$harness'; choose from: ${all[*]}" >&2; exit 64 ;;
    esac
done

scratch="$root/.build-fuzz"
swift build -c "$configuration" --product topogen-fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DTOPOGEN_FUZZ -Xswiftc -parse-as-library
fuzzer="$scratch/$configuration/topogen-fuzz"

# The files each harness starts from. Iptables seeds are topogen's scripts as well as
# iptables-save output: the reader reads both.
seeds_of() {
    case "$1" in
        topology-yaml) ls examples/*.yaml Tests/Fixtures/topology/*/*.yaml \
            Tests/Fixtures/topologies/*.yaml Tests/Fixtures/yaml/*/* ;;
        topology-json) ls Tests/Fixtures/topology/*/*.json ;;
        k8s) ls golden/*/k8s/* Tests/Fixtures/diff/k8s/*.yaml Tests/Fixtures/diff/k8s/*.json ;;
        iptables) ls golden/*/iptables/* Tests/Fixtures/diff/iptables/* ;;
        nftables) ls golden/*/nftables/* Tests/Fixtures/diff/nftables/*.nft ;;
        nftables-json) ls Tests/Fixtures/diff/nftables/*.json ;;
        aws) ls golden/*/aws/*.json Tests/Fixtures/diff/aws/*.json ;;
        terraform) ls golden/*/terraform/*.tf Tests/Fixtures/diff/terraform/*/*.tf ;;
    esac
    if [ -d "Tests/Fixtures/fuzz/$1" ]; then ls "Tests/Fixtures/fuzz/$1"/*; fi
}

status=0
for harness in "${harnesses[@]}"; do
    seeds="$scratch/seeds/$harness"
    corpus="$scratch/corpus/$harness"
    findings="$scratch/findings/$harness"
    rm -rf "$seeds"
    mkdir -p "$seeds" "$corpus" "$findings"
    seeds_of "$harness" | while read -r file; do
        cp "$file" "$seeds/$(echo "$file" | tr '/' '_')"
    done
    if [ "$harness" = topology-json ]; then
        # The YAML topology files, as JSON, when PyYAML is there (Scripts/bootstrap.sh).
        python="$root/.venv/bin/python"
        if [ -x "$python" ]; then
            for file in examples/*.yaml Tests/Fixtures/topology/*/*.yaml; do
                "$python" -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout, indent=2)' \
                    "$file" > "$seeds/$(echo "$file" | tr '/' '_').json" 2>/dev/null || true
            done
        fi
    fi
    echo "== $harness: $(ls "$seeds" | wc -l) seeds, $seconds s"
    log="$scratch/findings/$harness.log"
    if ! TOPOGEN_FUZZ_HARNESS="$harness" "$fuzzer" "$corpus" "$seeds" \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=512 -artifact_prefix="$findings/" -print_final_stats=1 \
        >"$log" 2>&1; then
        echo "error: $harness: a finding; see $log and $findings/" >&2
        grep -E '^==[0-9]+==|ERROR|Fatal error|SUMMARY' "$log" | head -5 >&2 || true
        status=1
    fi
    grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$log" || true
done
exit $status
