#!/bin/sh
# Builds topogen in release mode and prints its benchmarks beside Aerleon's (installed into
# .venv-bench from PyPI when missing): wall time and peak memory of generation for every target
# at the reference installation and at 1,000 and 10,000 worker pools and infrastructure
# endpoints, and of diff on large inputs; then the issue's targets, met or MISSED (exit 1 when
# one is missed). About 10 minutes on an idle 2-CPU machine.
# Usage: Scripts/bench.sh [--runs N] [--aerleon-runs N] [--aerleon-timeout S] [--quick]
#                         [--no-aerleon] [--keep DIR]
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product topogen >&2
exec python3 Scripts/bench.py "$@"
