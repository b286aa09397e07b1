#!/bin/sh
# Explorer throughput against a baseline vmsim in the same run (docs/bench.md):
# interleavings per second over the race catalogue at bound 2 and over the
# first 1,000 runs of the seed-11 trace, A and B taken in turn, medians.
# Usage: [TRACEGEN=PATH] bench/explore_throughput.sh VMSIM BASELINE_VMSIM [REPEATS]
# (TRACEGEN defaults to VMSIM's build tree's tools/tracegen/tracegen.)
# A baseline is a vmsim built from an older commit, e.g.
#   git worktree add --detach /tmp/base <commit>
#   cmake -S /tmp/base -B /tmp/base/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build /tmp/base/build --target vmsim
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 VMSIM BASELINE_VMSIM [REPEATS]" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")/.." && pwd)
# tracegen of A's build tree unless TRACEGEN names one.
TRACEGEN=${TRACEGEN:-$(dirname "$1")/tools/tracegen/tracegen}
for exe in "$1" "$2" "$TRACEGEN"; do
  if [ ! -x "$exe" ]; then
    echo "$0: $exe is not an executable (VMSIM, BASELINE_VMSIM or TRACEGEN)" >&2
    exit 2
  fi
done
case "${3:-3}" in
  '' | *[!0-9]* | 0) echo "$0: REPEATS must be a positive integer, got '$3'" >&2; exit 2 ;;
esac
exec python3 - "$1" "$2" "${3:-3}" "$HERE" "$TRACEGEN" <<'PY'
import glob, json, os, shutil, statistics, subprocess, sys, tempfile, time

a, b, repeats, root, tracegen = sys.argv[1:6]
repeats = int(repeats)
sys.path.insert(0, os.path.join(root, "bench"))
from free_race_trace import free_race_trace

tmp = tempfile.mkdtemp()
catalogue = []
for path in sorted(glob.glob(f"{root}/traces/races/*.json")):
    catalogue.append(os.path.join(tmp, os.path.basename(path)))
    free_race_trace(path, catalogue[-1])
seed11 = os.path.join(tmp, "seed11.json")
with open(seed11, "w") as out:
    subprocess.run([tracegen, "random", "--seed", "11", "--ops", "40", "--threads", "3",
                    "--cpus", "3", "--features", "all"], stdout=out, check=True)


def search(vmsim, trace, extra):
    """Runs of one explore, or None when this vmsim cannot read the trace."""
    r = subprocess.run([vmsim, "explore", trace, "--json", "--jobs", "1"] + extra,
                       capture_output=True, text=True)
    try:
        return json.loads(r.stdout)["runs"]
    except (ValueError, KeyError):
        return None


def workload(vmsim, name):
    start = time.monotonic()
    runs, skipped = 0, 0
    if name == "catalogue":
        for trace in catalogue:
            n = search(vmsim, trace, ["--bound", "2", "--all"])
            runs, skipped = runs + (n or 0), skipped + (n is None)
    else:
        runs = search(vmsim, seed11, ["--bound", "2", "--max-runs", "1000"]) or 0
    return runs, time.monotonic() - start, skipped


for name in ("catalogue", "seed-11"):
    rates = {a: [], b: []}
    info = {}
    for _ in range(repeats):
        for vmsim in (a, b):
            runs, secs, skipped = workload(vmsim, name)
            rates[vmsim].append(runs / secs)
            info[vmsim] = (runs, skipped)
    ra, rb = statistics.median(rates[a]), statistics.median(rates[b])
    for label, vmsim, rate in (("A", a, ra), ("B", b, rb)):
        runs, skipped = info[vmsim]
        note = f", {skipped} traces it cannot read" if skipped else ""
        print(f"{name:>9} {label}: {runs} runs, {rate:,.0f} runs/s{note}  ({vmsim})")
    print(f"{name:>9} A/B: {ra / rb:.1f}x the interleavings per second")
shutil.rmtree(tmp)
PY
