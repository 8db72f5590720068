#!/bin/sh
# Builds topogen in release mode and prints its benchmarks: wall time and peak memory of
# generation and of diff on large inputs. Usage: Scripts/bench.sh [--runs N]
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product topogen >&2
exec python3 Scripts/bench.py "$@"
