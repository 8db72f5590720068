#!/usr/bin/env bash
# Runs every test: installs the checkers when they are missing (Scripts/bootstrap.sh), checks
# the formatting, then runs the Swift test suite, which drives the checkers.
# Extra arguments go to `swift test`, for example `Scripts/test.sh --filter Golden`.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
Scripts/format.sh --lint
swift test "$@"
