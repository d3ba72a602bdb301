#!/usr/bin/env bash
# Installs the system libraries Medley needs on Debian or Ubuntu (the Swift toolchain is
# assumed), then builds the package. Safe to run again: packages already present are skipped.
#
# Usage: scripts/setup.sh [--release]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
configuration=debug
case ${1:-} in
    "") ;;
    --release) configuration=release ;;
    *) echo "usage: $0 [--release]" >&2; exit 2 ;;
esac

# libzmq3-dev: ZeroMQ 4.3; libopenblas-dev: BLAS for batch scoring;
# protobuf-compiler: protoc, only to regenerate the protocol code; pkg-config: SwiftPM's lookups.
packages=(libzmq3-dev libopenblas-dev protobuf-compiler pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo=sudo
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# numpy and safetensors let the tests check model files against an independent Python
# reader (scripts/reference_score.py); without them those tests are skipped.
if command -v python3 >/dev/null && ! python3 -c "import numpy, safetensors" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check numpy safetensors \
        || echo "warning: could not install numpy and safetensors; the Python cross-checks will be skipped" >&2
fi

swift build --package-path "$root" -c "$configuration"
