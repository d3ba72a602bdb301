#!/usr/bin/env bash
# Runs `medley serve` and the Python peer (Benchmarks/python/python_peer.py) on the same seeded
# model, drives each with the same `medley bench load` runs, one server at a time, and prints
# both figures and their ratio. Everything it starts it stops; its files go in a temp dir.
#
# Usage: Benchmarks/compare-python.sh [--items N] [--dimension D] [--seconds S] [--workers W]
#                                      [--medley-args "..."] [--out DIR]
# --out DIR keeps every run's JSON report there.
# Needs a release build (swift build -c release --product medley); installs pyzmq, protobuf,
# numpy and safetensors with pip when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

items=150000 dimension=64 seconds=10 workers=2 medley_args="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --items) items=$2; shift 2 ;;
    --dimension) dimension=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --medley-args) medley_args=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

medley=.build/release/medley
[ -x "$medley" ] || { echo "no release build at $medley: run swift build -c release --product medley" >&2; exit 1; }
python3 -c 'import zmq, google.protobuf, numpy, safetensors' 2>/dev/null \
  || python3 -m pip install --quiet pyzmq 'protobuf>=4.21,<5' numpy safetensors

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$out" ]; then mkdir -p "$out"; cp "$work"/*.json "$out"/ 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

protoc --python_out="$work" --proto_path=protocol protocol/medley.proto
"$medley" bench write-model --items "$items" --dimension "$dimension" --out "$work/model.safetensors" >/dev/null
endpoint_medley=tcp://127.0.0.1:5575
endpoint_python=tcp://127.0.0.1:5576

wait_healthy() {  # endpoint
  PYTHONPATH="$work" python3 - "$1" <<'PY'
import sys, time, zmq, medley_pb2 as pb
ctx = zmq.Context(); s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
deadline = time.time() + 120
while time.time() < deadline:
    s.send_multipart([b"", pb.Request(protocol_version=1, request_id=1, health=pb.HealthRequest()).SerializeToString()])
    if s.poll(1000):
        r = pb.Reply.FromString(s.recv_multipart()[-1])
        if r.WhichOneof("body") == "health" and r.health.status == pb.SERVING_STATUS_SERVING:
            sys.exit(0)
    time.sleep(0.2)
sys.exit("server did not become healthy")
PY
}

runs=("--clients 1 --in-flight 1" "--clients 2 --in-flight 32")
load() {  # endpoint name
  for run in "${runs[@]}"; do
    # shellcheck disable=SC2086
    "$medley" bench load --connect "$1" --model "$work/model.safetensors" --seconds "$seconds" $run > "$work/$2-${run// /_}.json"
  done
}

echo "conditions: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $items items, d = $dimension, $workers medley workers"
# shellcheck disable=SC2086
OPENBLAS_NUM_THREADS=1 "$medley" serve --model "$work/model.safetensors" --bind "$endpoint_medley" --log-dir "$work/log" \
  --workers "$workers" $medley_args > "$work/medley.log" 2>&1 &
server_pid=$!
wait_healthy "$endpoint_medley"
load "$endpoint_medley" medley
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

OPENBLAS_NUM_THREADS=1 PYTHONPATH="$work" python3 Benchmarks/python/python_peer.py --model "$work/model.safetensors" \
  --bind "$endpoint_python" > "$work/python.log" 2>&1 &
server_pid=$!
wait_healthy "$endpoint_python"
load "$endpoint_python" python
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

python3 - "$work" "${runs[@]}" <<'PY'
import json, sys
work, runs = sys.argv[1], sys.argv[2:]
print(f"{'load':<28} {'medley req/s':>13} {'python req/s':>13} {'ratio':>6} {'medley p50/p99 ms':>18} {'python p50/p99 ms':>18}")
for run in runs:
    key = run.replace(" ", "_")
    m = json.load(open(f"{work}/medley-{key}.json")); p = json.load(open(f"{work}/python-{key}.json"))
    for r, name in ((m, "medley"), (p, "python")):
        bad = sum(r["errors"].values()) + r["unanswered"]
        if bad: print(f"warning: {name} had {bad} failed or unanswered requests under '{run}'")
    ml, pl = m["latency"], p["latency"]
    print(f"{run:<28} {m['throughput']:>13.0f} {p['throughput']:>13.0f} {m['throughput'] / max(p['throughput'], 1e-9):>6.2f}"
          f" {ml['p50Ms']:>8.3f}/{ml['p99Ms']:<9.3f} {pl['p50Ms']:>8.3f}/{pl['p99Ms']:<9.3f}")
first = runs[0].replace(" ", "_")
m1 = json.load(open(f"{work}/medley-{first}.json"))["latency"]["p50Ms"]
p1 = json.load(open(f"{work}/python-{first}.json"))["latency"]["p50Ms"]
print(f"one client p50: python / medley = {p1 / max(m1, 1e-9):.2f}")
PY
