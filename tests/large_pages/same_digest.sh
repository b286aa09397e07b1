#!/bin/sh
# Large pages are invisible (spec §9): every trace given replays with the
# same result and digest under `--large-pages always` as under `never`.
# With --need-large, each trace must also map at least one large page and
# split at least one under `always` (the traces of traces/large-pages/).
# Usage: same_digest.sh VMSIM [--need-large] TRACE...
set -u
vmsim=$1
shift
need_large=0
if [ "${1:-}" = "--need-large" ]; then
  need_large=1
  shift
fi
summary() {  # result, digest, large_pages_mapped, large_page_splits of one JSON result line
  python3 -c 'import json, sys
d = json.loads(sys.stdin.readline())
s = d["stats"]
print(d["result"], d["digest"], s["large_pages_mapped"], s["large_page_splits"])'
}
status=0
for trace in "$@"; do
  never=$("$vmsim" replay --json --audit every-op --large-pages never "$trace" | summary) || {
    echo "FAIL $trace: no result under never"; status=1; continue; }
  always=$("$vmsim" replay --json --audit every-op --large-pages always "$trace" | summary) || {
    echo "FAIL $trace: no result under always"; status=1; continue; }
  set -- $never
  n_outcome="$1 $2"
  set -- $always
  a_outcome="$1 $2"
  if [ "$n_outcome" != "$a_outcome" ]; then
    echo "FAIL $trace: never gives '$n_outcome', always gives '$a_outcome'"
    status=1
  elif [ $need_large -eq 1 ] && { [ "$3" -lt 1 ] || [ "$4" -lt 1 ]; }; then
    echo "FAIL $trace: large pages mapped $3, split $4 under always (want both >= 1)"
    status=1
  fi
done
exit $status
