#!/bin/sh
# Two builds of vmsim, one workload, one run (docs/bench.md): `vmsim bench`
# of each, interleaved ROUNDS times so both see the same machine load, and
# the median of each measure with the ratio new/old. Used for the cost of a
# design change, e.g. the reverse map (pv entries) on first-touch and on
# copy-on-write after fork: build the commit before it in a worktree and
#   bench/compare_builds.sh /work/wt/old/build/vmsim build/vmsim 5
# Usage: bench/compare_builds.sh OLD_VMSIM NEW_VMSIM [ROUNDS] [PAGES]
set -eu
OLD=$1
NEW=$2
ROUNDS=${3:-5}
PAGES=${4:-4096}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
i=0
while [ "$i" -lt "$ROUNDS" ]; do
  "$OLD" bench --pages "$PAGES" --rounds 3 >"$TMP/old.$i"
  "$NEW" bench --pages "$PAGES" --rounds 3 >"$TMP/new.$i"
  i=$((i + 1))
done
python3 - "$TMP" "$ROUNDS" <<'PY'
import os, re, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
rows = ["first-touch anonymous faults", "copy-on-write faults after fork",
        "non-faulting 1-byte accesses"]
def rates(side):
    out = {r: [] for r in rows}
    for i in range(rounds):
        for line in open(os.path.join(tmp, f"{side}.{i}")):
            for r in rows:
                if line.startswith(r):
                    out[r].append(float(line[len(r):].split()[0]))
    return out
old, new = rates("old"), rates("new")
print(f"{rounds} interleaved rounds, medians (per second)")
print(f"{'measure':40} {'old':>12} {'new':>12} {'new/old':>8}")
for r in rows:
    if not old[r] or not new[r]:
        continue
    o, n = statistics.median(old[r]), statistics.median(new[r])
    print(f"{r:40} {o:12.0f} {n:12.0f} {n / o:8.3f}")
PY
