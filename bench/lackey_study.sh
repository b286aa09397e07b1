#!/usr/bin/env bash
# The replacement study of docs/lackey.md: every log of DIR (recorded by
# bench/record_lackey_logs.sh) replayed by `vmsim lackey` at resident limits
# of 10, 25, 50 and 80% of its distinct pages; prints a Markdown table of
# the core's misses next to exact LRU's and OPT's.
#
# usage: bench/lackey_study.sh [DIR] [VMSIM]   (defaults /tmp/vmsim-lackey, ./build/vmsim)
set -euo pipefail

dir=${1:-/tmp/vmsim-lackey}
vmsim=${2:-./build/vmsim}
percents=(10 25 50 80)

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
row() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

echo "| program | distinct pages | limit | core | LRU | OPT | core/LRU | core/OPT |"
echo "|---|---|---|---|---|---|---|---|"
for log in "$dir"/*.log.gz; do
  name=$(basename "$log" .log.gz)
  distinct=$("$vmsim" lackey --json "$log" | field 'd["replacement"]["distinct_pages"]')
  for pct in "${percents[@]}"; do
    limit=$((distinct * pct / 100))
    [ "$limit" -ge 1 ] || limit=1
    "$vmsim" lackey --json --resident-limit "$limit" "$log" | row "
r = d['replacement']
print('| $name | %d | %d (${pct}%%) | %d | %d | %d | %.3f | %.3f |' % (
    r['distinct_pages'], r['capacity'], r['core_misses'], r['lru_misses'], r['opt_misses'],
    r['core_misses'] / r['lru_misses'], r['core_misses'] / r['opt_misses']))"
  done
done
