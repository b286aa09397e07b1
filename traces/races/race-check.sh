#!/bin/sh
# One step of a race's CTest chain (traces/races/CMakeLists.txt, docs/races.md).
#   race-check.sh VMSIM MODE TRACE BUG KIND WORKDIR MAXRUNS [EXPLORE-FLAG...]
# BUG is one mutation name, or several joined by commas (each becomes a --bug).
# MODE clean:    explore --bound 2 finds no violation with the core as built.
# MODE catch:    explore --bug BUG --bound 2 --max-runs MAXRUNS exits 1 and
#                writes WORKDIR/NAME.KIND.json.
# MODE minimize: minimize that file under the same bug into WORKDIR/min.json.
# MODE replay:   replay --bug BUG --json WORKDIR/min.json shows a KIND violation
#                (exit 1) and meets the minimized trace's expect.
set -u
vmsim=$1 mode=$2 trace=$3 bug=$4 kind=$5 work=$6 maxruns=$7
shift 7
name=$(basename "$trace" .json)
bugs=""
for b in $(echo "$bug" | tr ',' ' '); do bugs="$bugs --bug $b"; done
fail() { echo "race-check: $name: $*" >&2; exit 1; }
case $mode in
  clean)
    "$vmsim" explore "$trace" --bound 2 "$@" --out "$work/clean"
    rc=$?
    [ $rc -eq 0 ] || fail "explore of the correct core exited $rc (0 expected: no violation)"
    ;;
  catch)
    rm -rf "$work/catch"
    mkdir -p "$work"
    "$vmsim" explore "$trace" $bugs --bound 2 --max-runs "$maxruns" "$@" --out "$work/catch"
    rc=$?
    [ $rc -eq 1 ] || fail "explore --bug $bug exited $rc (1 expected: violation found)"
    [ -f "$work/catch/$name.$kind.json" ] || fail "no $kind failure trace in $work/catch"
    ;;
  minimize)
    rm -f "$work/min.json"
    "$vmsim" minimize "$work/catch/$name.$kind.json" $bugs -o "$work/min.json" ||
      fail "minimize failed"
    [ -s "$work/min.json" ] || fail "minimize wrote nothing"
    ;;
  replay)
    out=$("$vmsim" replay $bugs --json "$work/min.json")
    rc=$?
    echo "$out"
    [ $rc -eq 1 ] || fail "replay exited $rc (1 expected: a violation)"
    echo "$out" | grep -q "\"result\":\"violation\"" || fail "replay shows no violation"
    echo "$out" | grep -q "\"kind\":\"$kind\"" || fail "replay shows no $kind violation"
    echo "$out" | grep -q "\"met\":true" || fail "the minimized trace's expect is not met"
    ;;
  *) fail "unknown mode $mode" ;;
esac
exit 0
