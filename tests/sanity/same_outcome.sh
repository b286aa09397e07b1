#!/bin/sh
# Slab sanity (docs/kernel-memory.md) changes nothing but what it checks:
# every trace given replays with the same result and digest under --sanity
# as without, and no write to a slab object without USE() is found.
# Usage: same_outcome.sh VMSIM TRACE...
set -u
vmsim=$1
shift
outcome() {  # result and digest of one JSON result line
  python3 -c 'import json, sys
d = json.loads(sys.stdin.readline())
print(d["result"], d.get("digest"))'
}
status=0
for trace in "$@"; do
  plain=$("$vmsim" replay --json "$trace" | outcome) || {
    echo "FAIL $trace: no result without --sanity"; status=1; continue; }
  out=$("$vmsim" replay --json --sanity "$trace")
  checked=$(printf '%s\n' "$out" | outcome) || {
    echo "FAIL $trace: no result under --sanity"; status=1; continue; }
  if printf '%s' "$out" | grep -q 'without USE()'; then
    echo "FAIL $trace: $(printf '%s' "$out" | grep -o 'slab [^"]*without USE()[^"]*' | head -1)"
    status=1
  elif [ "$plain" != "$checked" ]; then
    echo "FAIL $trace: without --sanity '$plain', with it '$checked'"
    status=1
  fi
done
exit $status
