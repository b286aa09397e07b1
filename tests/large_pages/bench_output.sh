#!/bin/sh
# `vmsim bench large-pages` and `vmsim bench fragmentation` on small sizes:
# they run, exit 0 and print every row with numbers in every column (the
# figures themselves are measurements, never checked here); bad sizes exit 2.
# Usage: bench_output.sh VMSIM
set -u
vmsim=$1
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

num='-?[0-9]+(\.[0-9]+)?'
expect_row() {  # file label-regex count-of-numbers
  if ! grep -Eq "^$2( +$num){$3}\$" "$1"; then
    echo "FAIL: no well-formed row '$2' with $3 numbers in:"; cat "$1"; fail=1
  fi
}

if ! "$vmsim" bench large-pages --mib 4 --rounds 1 --sweeps 2 >"$out"; then
  echo "FAIL: bench large-pages exited $?"; cat "$out"; fail=1
fi
expect_row "$out" 'first touch: ns per 4 KiB' 3
expect_row "$out" 'reads: ns per load \(one per 4 KiB\)' 3
expect_row "$out" 'reads in 512 KiB: ns per load \(same count\)' 3
expect_row "$out" 'first touch: faults per round' 2
expect_row "$out" 'first touch: 2 MiB pages per round' 2
expect_row "$out" 'reads: 2 MiB pages' 2
# The large pages were used: 2 per round of 4 MiB under always, none under never.
grep -Eq '^first touch: 2 MiB pages per round +0\.0 +2\.0$' "$out" ||
  { echo "FAIL: expected 0 and 2 large pages per round"; fail=1; }
grep -Eq '^first touch: faults per round +1024\.0 +2\.0$' "$out" ||
  { echo "FAIL: expected 1024 and 2 faults per round"; fail=1; }

if ! "$vmsim" bench fragmentation --memory-mib 32 >"$out"; then
  echo "FAIL: bench fragmentation exited $?"; cat "$out"; fail=1
fi
for level in 25 50 75; do
  expect_row "$out" "$level% +lifo \(before\)" 6
  expect_row "$out" "$level% +prefer-broken \(after\)" 6
done

"$vmsim" bench large-pages --mib 3 >/dev/null 2>"$out"
[ $? -eq 2 ] && grep -q 'not a whole number of 2 MiB' "$out" ||
  { echo "FAIL: --mib 3 must exit 2 with a reason"; cat "$out"; fail=1; }

"$vmsim" bench fragmentation --seed -1 >/dev/null 2>"$out"
[ $? -eq 2 ] && grep -q -- '--seed' "$out" ||
  { echo "FAIL: --seed -1 must exit 2 naming the option"; cat "$out"; fail=1; }

[ $fail -eq 0 ] && echo "bench output well-formed"
exit $fail
