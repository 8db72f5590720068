#!/usr/bin/env bash
# Installs everything the test suite needs beside the Swift toolchain, and nothing else: the
# checkers, independent engines that judge topogen's output.
#   - from Debian: iptables, nftables, socat and iproute2 (the host firewall tests load rules
#     into network namespaces, as root), and graphviz (the graph tests draw every dot picture,
#     and docs/reference-installation.svg is checked against dot's drawing), util-linux and mount
#     (the failure tests make read-only and full directories with unshare, mount and setpriv, and
#     limit file sizes with prlimit; both are part of every Debian system, checked all the same);
#   - from PyPI, into a virtual environment at .venv in the package root: kubernetes-validate,
#     network-config-analyzer, moto, boto3, the AWS CLI, PyYAML and jsonschema
#     (Scripts/requirements-checkers.txt).
# Safe to run again: it does nothing when everything is in place.
#
#   Scripts/bootstrap.sh          install what is missing
#   Scripts/bootstrap.sh --check  only report what is missing (exit 1 if anything is)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
requirements="$root/Scripts/requirements-checkers.txt"
stamp="$venv/.requirements"
export PATH="$PATH:/usr/sbin:/sbin"

debian_packages=(iptables nftables socat iproute2 graphviz util-linux mount)
debian_commands=(iptables ip6tables iptables-restore ip6tables-restore nft socat ip dot
    unshare setpriv prlimit mount)
python_tools=(kubernetes-validate nca moto_server aws)

missing_debian() {
    local command
    for command in "${debian_commands[@]}"; do
        command -v "$command" >/dev/null 2>&1 || echo "$command"
    done
}

# Terraform and its AWS provider are not Debian or PyPI packages: machines of this kind come with
# them (the provider in a filesystem mirror under /opt/tf-plugins). They can only be checked.
missing_terraform() {
    command -v terraform >/dev/null 2>&1 || echo "terraform (comes with this kind of machine)"
    ls -d /opt/tf-plugins/registry.terraform.io/hashicorp/aws/*/ >/dev/null 2>&1 \
        || echo "the AWS provider in /opt/tf-plugins (comes with this kind of machine)"
}

missing_python() {
    local tool
    for tool in "${python_tools[@]}"; do
        [ -x "$venv/bin/$tool" ] || echo "$tool"
    done
    cmp -s "$stamp" "$requirements" 2>/dev/null || echo "$(basename "$requirements") (changed)"
}

if [ "${1:-}" = "--check" ]; then
    missing=$( { missing_debian; missing_python; missing_terraform; } | sort -u)
    if [ -n "$missing" ]; then
        while IFS= read -r item; do echo "error: missing checker: $item" >&2; done <<<"$missing"
        echo "hint: run Scripts/bootstrap.sh" >&2
        exit 1
    fi
    exit 0
fi

if [ -n "$(missing_debian)" ]; then
    echo "bootstrap: installing Debian packages: ${debian_packages[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: installing ${debian_packages[*]} needs root (apt-get)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${debian_packages[@]}" >/dev/null
fi

if [ -n "$(missing_python)" ]; then
    echo "bootstrap: installing Python checkers into $venv" >&2
    command -v python3 >/dev/null || { echo "error: python3 is required" >&2; exit 1; }
    [ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi

missing=$( { missing_debian; missing_python; missing_terraform; } | sort -u)
if [ -n "$missing" ]; then
    while IFS= read -r item; do echo "error: missing: $item" >&2; done <<<"$missing"
    exit 1
fi
