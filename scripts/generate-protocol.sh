#!/usr/bin/env bash
# Generates the Swift code for protocol/medley.proto into
# Sources/MedleyProtocol/Generated/, with the schema's SHA-256 in
# SchemaDigest.swift so that a test can tell when the committed code is stale.
#
# Usage: scripts/generate-protocol.sh [--check]
#   (no option)  regenerate and overwrite the committed files
#   --check      regenerate into a temporary folder and compare; exit 1 if the
#                committed files differ
#
# Needs protoc on PATH. Builds protoc-gen-swift from the swift-protobuf
# dependency on first use (in $MEDLEY_SCRATCH_PATH, default .build-protocol),
# so the generator always matches the runtime library the package links.
set -euo pipefail

usage() {
    echo "usage: $0 [--check]" >&2
    exit 2
}

check=false
case $# in
    0) ;;
    1) [[ $1 == --check ]] || usage; check=true ;;
    *) usage ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${MEDLEY_SCRATCH_PATH:-$root/.build-protocol}
schema_dir=$root/protocol
schema=$schema_dir/medley.proto
out_dir=$root/Sources/MedleyProtocol/Generated

command -v protoc >/dev/null || { echo "protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

bin_dir=$(swift build --package-path "$root" --scratch-path "$scratch" -c release --show-bin-path)
plugin=$bin_dir/protoc-gen-swift
if [[ ! -x $plugin ]]; then
    echo "building protoc-gen-swift (once)..." >&2
    swift build --package-path "$root" --scratch-path "$scratch" -c release --product protoc-gen-swift >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -I on the schema's folder keeps absolute paths out of the generated headers.
protoc \
    --plugin=protoc-gen-swift="$plugin" \
    -I "$schema_dir" \
    --swift_out="$tmp" \
    --swift_opt=Visibility=Public \
    "$schema"

digest=$(sha256sum "$schema" | cut -d' ' -f1)
cat >"$tmp/SchemaDigest.swift" <<EOF
// DO NOT EDIT.
// Written by scripts/generate-protocol.sh from protocol/medley.proto.

/// Identifies the schema that the generated code in this folder came from.
public enum MedleyProtocolSchema {
    /// SHA-256 of protocol/medley.proto, lower-case hex. A test hashes the file
    /// and compares, so an edit to the schema without regenerating fails it.
    public static let sourceSHA256 = "$digest"
}
EOF

if $check; then
    if diff -ru "$out_dir" "$tmp" >&2; then
        echo "generated protocol code is up to date" >&2
    else
        echo "generated protocol code is stale: run scripts/generate-protocol.sh" >&2
        exit 1
    fi
else
    mkdir -p "$out_dir"
    rm -f "$out_dir"/*.swift
    cp "$tmp"/*.swift "$out_dir"/
    echo "wrote $(ls "$tmp" | tr '\n' ' ')to ${out_dir#"$root"/}" >&2
fi
