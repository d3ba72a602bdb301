#!/usr/bin/env bash
# Rebuilds models/default.safetensors, the model `medley serve` starts with: the synthetic
# data set of seed 1 (1,000 users, 120 items in each of news, video and music), trained with
# the default settings on 2 threads. The same command gives the same bytes, so the script
# says whether the committed file was reproduced.
#
# Usage: scripts/train-default-model.sh [--check]
#   --check   train into a temporary folder and compare with the committed file
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
check=false
case ${1:-} in
    "") ;;
    --check) check=true ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

swift build --package-path "$root" -c release --product medley >&2
medley=$root/.build/release/medley
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$medley" gen --out "$work/synthetic" --seed 1 --users 1000 --items-per-domain 120 --clusters 6 >&2
"$medley" train --log "$work/synthetic" --models-dir "$work/models" --version 1 \
    --dimension 32 --hidden 256 --architecture mlp --epochs 20 --seed 1 --threads 2 >&2

if $check; then
    if cmp -s "$work/models/1.safetensors" "$root/models/default.safetensors"; then
        echo "models/default.safetensors is reproduced exactly"
    else
        echo "models/default.safetensors differs from a fresh training run" >&2
        exit 1
    fi
else
    cp "$work/models/1.safetensors" "$root/models/default.safetensors.tmp"
    mv "$root/models/default.safetensors.tmp" "$root/models/default.safetensors"
    echo "wrote models/default.safetensors"
fi
