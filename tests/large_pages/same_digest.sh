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
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Replays first, one result line per trace and mode; then one Python run
# compares them all (its start-up costs more than a replay).
i=0
for trace in "$@"; do
  i=$((i + 1))
  printf '%s\n' "$trace" >"$out/$i.trace"
  for mode in never always; do
    "$vmsim" replay --json --audit every-op --large-pages $mode "$trace" >"$out/$i.$mode" 2>/dev/null
  done
done
python3 - "$out" "$i" "$need_large" <<'PY'
import json, sys
out, count, need_large = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
status = 0
for i in range(1, count + 1):
    trace = open(f"{out}/{i}.trace").read().strip()
    summary = {}
    for mode in ("never", "always"):
        try:
            d = json.loads(open(f"{out}/{i}.{mode}").readline())
            summary[mode] = (d["result"], d["digest"], d["stats"]["large_pages_mapped"],
                             d["stats"]["large_page_splits"])
        except (ValueError, KeyError):
            print(f"FAIL {trace}: no result under {mode}")
            status = 1
    if len(summary) != 2:
        continue
    never, always = summary["never"], summary["always"]
    if never[:2] != always[:2]:
        print(f"FAIL {trace}: never gives '{never[0]} {never[1]}', "
              f"always gives '{always[0]} {always[1]}'")
        status = 1
    elif need_large and (always[2] < 1 or always[3] < 1):
        print(f"FAIL {trace}: large pages mapped {always[2]}, split {always[3]} "
              "under always (want both >= 1)")
        status = 1
sys.exit(status)
PY
