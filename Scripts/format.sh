#!/usr/bin/env bash
# Formats the Swift sources in place with the toolchain's swift-format and .swift-format,
# then lints them strictly. With --lint it only lints (what CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Sources Tests)
if [ "${1:-}" != "--lint" ]; then
    swift format format --parallel --in-place --recursive "${paths[@]}"
fi
swift format lint --strict --parallel --recursive "${paths[@]}"
