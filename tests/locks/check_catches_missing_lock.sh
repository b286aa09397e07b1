#!/usr/bin/env bash
# The thread-safety check has teeth: in a copy of core/, a lock acquisition is
# taken out and the check must fail, naming the lock. Two cases: the map lock
# out of the system calls in vm/vm_map.cpp, and the object lock out of poke's
# write into the region's own page (sys/poke.cpp: poke must hold the object's
# lock while it looks a page up and writes it, as the fault does).
# Usage: check_catches_missing_lock.sh SOURCE_DIR [CLANG++]
set -uo pipefail
src=$1
clang=${2:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-lockcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT

# take_out FILE LINE LOCK: drops every LINE from core/FILE in a fresh copy of
# core/ and expects the check of that file to fail for want of LOCK.
take_out() {
  local file=$1 line=$2 lock=$3
  rm -rf "$work/core"
  cp -r "$src/core" "$work/core"
  local before
  before=$(grep -cF "$line" "$work/core/$file")
  if [ "$before" -eq 0 ]; then
    echo "FAIL: no '$line' left in core/$file to take out; update this test" >&2
    return 1
  fi
  grep -vF "$line" "$src/core/$file" >"$work/core/$file"

  local args=(-C "$work/core")
  [ -n "$clang" ] && args+=(-c "$clang")
  local out rc
  out=$("$src/scripts/check-thread-safety.sh" "${args[@]}" "$work/core/$file" 2>&1)
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "FAIL: the check passed with $before acquisitions of $lock taken out of $file" >&2
    return 1
  fi
  if ! grep -qF "requires holding mutex '$lock'" <<<"$out"; then
    printf '%s\n' "$out" >&2
    echo "FAIL: the check failed, but not for the missing $lock in $file" >&2
    return 1
  fi
  echo "ok: with $before acquisitions of $lock taken out of $file the check fails" \
    "with $(grep -c "error:" <<<"$out") errors"
}

status=0
take_out vm/vm_map.cpp 'MutexLocker lock(vm.platform, as.lock);' 'as.lock' || status=1
take_out sys/poke.cpp 'MutexLocker lock(vm.platform, r.object->lock);' 'r.object->lock' || status=1
exit "$status"
