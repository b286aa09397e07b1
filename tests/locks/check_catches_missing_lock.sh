#!/usr/bin/env bash
# The thread-safety check has teeth: in a copy of core/, the map lock is taken
# out of the system calls in vm/vm_map.cpp, and the check must fail, naming
# the lock. Usage: check_catches_missing_lock.sh SOURCE_DIR [CLANG++]
set -uo pipefail
src=$1
clang=${2:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-lockcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$src/core" "$work/core"

line='MutexLocker lock(vm.platform, as.lock);'
before=$(grep -cF "$line" "$work/core/vm/vm_map.cpp")
if [ "$before" -eq 0 ]; then
  echo "FAIL: no '$line' left in core/vm/vm_map.cpp to take out; update this test" >&2
  exit 1
fi
grep -vF "$line" "$src/core/vm/vm_map.cpp" >"$work/core/vm/vm_map.cpp"

args=(-C "$work/core")
[ -n "$clang" ] && args+=(-c "$clang")
out=$("$src/scripts/check-thread-safety.sh" "${args[@]}" "$work/core/vm/vm_map.cpp" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "FAIL: the check passed with $before map locks taken out of vm_map.cpp" >&2
  exit 1
fi
if ! grep -q "requires holding mutex 'as.lock'" <<<"$out"; then
  printf '%s\n' "$out" >&2
  echo "FAIL: the check failed, but not for the missing map lock" >&2
  exit 1
fi
echo "ok: with $before map locks taken out the check fails with $(grep -c "error:" <<<"$out") errors"
