#!/usr/bin/env bash
# What loading a model file costs: for each (medley binary, model file) pair given,
# `medley inspect FILE` (read, validate and decode the file, build the model, check
# servability) and `medley serve --model FILE` from its start to its "serving" log line, each
# with its wall time and peak resident set (/usr/bin/time's maximum RSS). The pairs run in turn,
# `--rounds` times, so that builds and files are compared in one run under the same load; the
# load average is printed with every line. Everything it starts it stops; its files go in a
# temp dir.
#
# Usage: Benchmarks/model-load.sh [--rounds N] [--workers W] BINARY FILE [BINARY FILE ...]
#   e.g. Benchmarks/model-load.sh /tmp/medley-before /tmp/old.safetensors .build/release/medley /tmp/new.safetensors
# Make a 3 × 1M file with: medley bench write-model --items 3000000 --dimension 64 --out FILE
set -euo pipefail

rounds=2 workers=2
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] && [ $(($# % 2)) -eq 0 ] || { echo "usage: $0 [--rounds N] [--workers W] BINARY FILE [BINARY FILE ...]" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "$(nproc) cores"
for round in $(seq "$rounds"); do
  pairs=("$@")
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    medley=${pairs[i]} model=${pairs[i + 1]}
    /usr/bin/time -f "%e %M" -o "$work/inspect.time" "$medley" inspect "$model" > "$work/inspect.out"
    grep -q "^verification: ok" "$work/inspect.out" || { echo "$medley refused $model:" >&2; tail -2 "$work/inspect.out" >&2; exit 1; }
    read -r seconds kilobytes < "$work/inspect.time"
    echo "round $round  $medley  $model ($(stat -c %s "$model") bytes)  inspect: ${seconds} s, peak ${kilobytes} KB  (load $(loadavg))"

    rm -rf "$work/log" "$work/serve.err"
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/serve.time" "$medley" serve --model "$model" --model-dir "$work" --log-dir "$work/log" \
      --workers "$workers" --bind "ipc://$work/serve.sock" 2> "$work/serve.err" &
    timer=$!
    server=""
    until grep -q '\] serving$' "$work/serve.err" 2>/dev/null; do
      kill -0 "$timer" 2>/dev/null || { echo "$medley serve exited:" >&2; tail -3 "$work/serve.err" >&2; exit 1; }
      [ -n "$server" ] || server=$(pgrep -P "$timer" || true)
      sleep 0.05
    done
    ready=$(echo "$(date +%s.%N) - $start" | bc)
    [ -n "$server" ] || server=$(pgrep -P "$timer")
    kill -TERM "$server"
    wait "$timer" || true
    server=""
    echo "round $round  $medley  $model  serve: serving after $(printf '%.2f' "$ready") s, peak $(cat "$work/serve.time") KB  (load $(loadavg))"
  done
done
