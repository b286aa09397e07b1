#!/bin/sh
# Explorer throughput and partial-order reduction (docs/bench.md):
# interleavings per second on a race trace, and runs with DPOR, with sleep
# sets alone and without reduction at the same bound with the same verdict.
# Usage: bench/explore_bench.sh [VMSIM] [TRACE] [BOUND]
set -eu
VMSIM=${1:-build/vmsim}
TRACE=${2:-traces/races/resize-vs-fault.json}
BOUND=${3:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 "$(dirname "$0")/free_race_trace.py" "$TRACE" "$TMP/free.json"
for mode in dpor sleep-sets none; do
  start=$(date +%s.%N)
  "$VMSIM" explore "$TMP/free.json" --bound "$BOUND" --all --json --reduction "$mode" \
    --out "$TMP/out" >"$TMP/r.json" || true
  end=$(date +%s.%N)
  python3 - "$TMP/r.json" "$start" "$end" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
secs = float(sys.argv[3]) - float(sys.argv[2])
print(f"{sys.argv[4]:>10}: {r['runs']} runs, {r['equivalence_classes']} classes, "
      f"{r['distinct_outcomes']} outcomes, "
      f"{len(r['failures'])} failure kinds, {r['coverage']}, "
      f"{secs:.2f} s, {r['runs'] / secs:.0f} runs/s")
PY
done
