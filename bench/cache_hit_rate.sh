#!/bin/sh
# The block cache's hit rate on traces/cache/file-server.json at several
# memory sizes, without swap (docs/kernel-memory.md). Every run must pass the
# oracle; the table is the gets that hit, missed, and the blocks forgotten.
# Usage: bench/cache_hit_rate.sh [VMSIM] [SIZES...]
set -eu
vmsim=${1:-./build/vmsim}
[ $# -gt 0 ] && shift
sizes=${*:-1MiB 1536KiB 2MiB 2560KiB 3MiB 8MiB}
trace=$(dirname "$0")/../traces/cache/file-server.json
echo "| memory | result | hits | misses | hit rate | forgotten |"
echo "|---|---|---|---|---|---|"
for m in $sizes; do
  "$vmsim" replay --json --memory "$m" --swap 0 "$trace" | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
s = d["stats"]
h, m = s["cache_hits"], s["cache_misses"]
print("| %s | %s | %d | %d | %.1f%% | %d |" % (sys.argv[1], d["result"], h, m, 100.0 * h / (h + m), s["cache_forgotten"]))
' "$m"
done
