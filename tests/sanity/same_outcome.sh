#!/bin/sh
# Slab sanity (docs/kernel-memory.md) changes nothing but what it checks:
# every trace given replays with the same result and digest under --sanity
# as without, and no write to a slab object without USE() is found.
# Usage: same_outcome.sh VMSIM TRACE...
set -u
vmsim=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Replays first; then one Python run compares them all (its start-up costs
# more than a replay).
i=0
for trace in "$@"; do
  i=$((i + 1))
  printf '%s\n' "$trace" >"$out/$i.trace"
  "$vmsim" replay --json "$trace" >"$out/$i.plain" 2>/dev/null
  "$vmsim" replay --json --sanity "$trace" >"$out/$i.sanity" 2>/dev/null
done
python3 - "$out" "$i" <<'PY'
import json, re, sys
out, count = sys.argv[1], int(sys.argv[2])
status = 0
for i in range(1, count + 1):
    trace = open(f"{out}/{i}.trace").read().strip()
    outcome = {}
    for mode, name in (("plain", "without --sanity"), ("sanity", "under --sanity")):
        text = open(f"{out}/{i}.{mode}").read()
        try:
            d = json.loads(text.splitlines()[0])
            outcome[mode] = (d["result"], d.get("digest"))
        except (ValueError, KeyError, IndexError):
            print(f"FAIL {trace}: no result {name}")
            status = 1
        if mode == "sanity" and "without USE()" in text:
            m = re.search(r'slab [^"]*without USE\(\)[^"]*', text)
            print(f"FAIL {trace}: {m.group(0) if m else 'write without USE()'}")
            status = 1
            outcome.pop(mode, None)
    if len(outcome) == 2 and outcome["plain"] != outcome["sanity"]:
        print(f"FAIL {trace}: without --sanity '{outcome['plain']}', "
              f"with it '{outcome['sanity']}'")
        status = 1
sys.exit(status)
PY
