#!/bin/sh
# The cost of slab sanity (docs/kernel-memory.md): wall time of replaying the
# same traces with --sanity and without, in alternating rounds of one run,
# and the ratio (tests/sanity checks that the outcomes are the same).
# Usage: bench/slab_sanity_cost.sh [VMSIM] [ROUNDS] [TRACES...]
set -eu
vmsim=${1:-./build/vmsim}
rounds=${2:-3}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
here=$(dirname "$0")/..
if [ $# -eq 0 ]; then
  set -- "$here"/traces/examples/*.json "$here"/traces/regress/*.json "$here"/traces/pressure/*.json
fi
now() { date +%s%N; }
off=0
on=0
i=0
while [ $i -lt "$rounds" ]; do
  t0=$(now)
  "$vmsim" replay "$@" > /dev/null || true  # a trace expecting a violation exits 1
  t1=$(now)
  "$vmsim" replay --sanity "$@" > /dev/null || true
  t2=$(now)
  off=$((off + t1 - t0))
  on=$((on + t2 - t1))
  i=$((i + 1))
done
python3 -c 'import sys
off, on, rounds, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("| traces | rounds | without --sanity | with --sanity | ratio |")
print("|---|---|---|---|---|")
print("| %d | %d | %.2f s | %.2f s | %.1fx |" % (n, rounds, off / 1e9 / rounds, on / 1e9 / rounds, on / off))
' "$off" "$on" "$rounds" "$#"
