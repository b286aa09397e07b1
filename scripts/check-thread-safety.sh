#!/usr/bin/env bash
# Compiles every source of the freestanding core (core/) with Clang's
# thread-safety analysis, as the `lint.thread_safety` test does, and fails on
# any warning (docs/locking.md). Usage: scripts/check-thread-safety.sh [CLANG++]
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
clang=${1:-}
if [ -z "$clang" ]; then
  for c in clang++ clang++-16 clang++-15 clang++-14; do
    if command -v "$c" >/dev/null 2>&1; then clang=$c; break; fi
  done
fi
if [ -z "$clang" ] || ! command -v "$clang" >/dev/null 2>&1; then
  echo "check-thread-safety: clang++ not found; install it (scripts/install-deps.sh, Debian package clang)" >&2
  exit 1
fi

# The core's freestanding flags (VMSIM_CORE_FLAGS in CMakeLists.txt), then the
# analysis. -Wthread-safety-beta adds the checks Clang still calls beta (e.g.
# guarded fields reached through a const reference); none misfires here.
flags=(-std=c++20 -fsyntax-only -ffreestanding -fno-exceptions -fno-rtti
  -fno-threadsafe-statics -fno-use-cxa-atexit
  -Wthread-safety -Wthread-safety-beta -Werror -ferror-limit=0 -I "$root/core")

status=0
checked=0
while IFS= read -r -d '' src; do
  checked=$((checked + 1))
  if ! out=$("$clang" "${flags[@]}" "$src" 2>&1) || [ -n "$out" ]; then
    printf '%s\n' "$out"
    status=1
  fi
done < <(find "$root/core" -name '*.cpp' -print0 | sort -z)

if [ "$checked" -eq 0 ]; then
  echo "check-thread-safety: no sources under $root/core" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "check-thread-safety: the lock discipline does not hold (docs/locking.md)" >&2
else
  echo "check-thread-safety: $checked core sources clean ($("$clang" --version | head -n1))"
fi
exit "$status"
