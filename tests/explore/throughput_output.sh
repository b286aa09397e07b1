#!/bin/sh
# bench/explore_throughput.sh with the same vmsim as A and B, one repeat:
# exit 0, and for the catalogue and the seed-11 trace an A, a B and an A/B
# row with numbers (the figures are measurements, never checked here).
# Usage: throughput_output.sh SCRIPT VMSIM
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
if ! sh "$1" "$2" "$2" 1 >"$out"; then
  echo "FAIL: explore_throughput.sh exited $?"; fail=1
fi
for w in catalogue seed-11; do
  for who in A B; do
    grep -Eq "^ *$w $who: [0-9]+ runs, [0-9,]+ runs/s " "$out" ||
      { echo "FAIL: no '$w $who' row"; fail=1; }
  done
  grep -Eq "^ *$w A/B: [0-9]+\.[0-9]x " "$out" || { echo "FAIL: no '$w A/B' row"; fail=1; }
done
[ $fail -eq 0 ] || cat "$out"
exit $fail
