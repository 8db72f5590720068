#!/usr/bin/env bash
# Installs everything the test suite needs beside the Swift toolchain, and nothing else:
# the checkers (independent engines that judge topogen's output) in a virtual environment at
# .venv in the package root. Safe to run again: it does nothing when everything is in place.
#
#   Scripts/bootstrap.sh          install what is missing
#   Scripts/bootstrap.sh --check  only report what is missing (exit 1 if anything is)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
requirements="$root/Scripts/requirements-checkers.txt"
stamp="$venv/.requirements"

missing=()
[ -x "$venv/bin/python3" ] || missing+=("python virtual environment $venv")
for tool in kubernetes-validate nca; do
    [ -x "$venv/bin/$tool" ] || missing+=("$tool")
done
if [ -f "$stamp" ] && ! cmp -s "$stamp" "$requirements"; then
    missing+=("updated $requirements")
fi

if [ "${1:-}" = "--check" ]; then
    if [ ${#missing[@]} -gt 0 ]; then
        printf 'error: missing checker: %s\n' "${missing[@]}" >&2
        echo "hint: run Scripts/bootstrap.sh" >&2
        exit 1
    fi
    exit 0
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "bootstrap: installing checkers into $venv" >&2
command -v python3 >/dev/null || { echo "error: python3 is required" >&2; exit 1; }
[ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
for tool in kubernetes-validate nca; do
    [ -x "$venv/bin/$tool" ] || { echo "error: '$tool' did not install" >&2; exit 1; }
done
echo "bootstrap: done" >&2
