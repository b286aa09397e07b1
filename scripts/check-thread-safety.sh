#!/usr/bin/env bash
# Compiles the sources of the freestanding core (core/, the VM and the
# system-call layer) and of the replay engine (engine/, which calls into the
# core and reads its maps) with Clang's thread-safety analysis, as the
# `lint.thread_safety` test does, and fails on any diagnostic
# (docs/locking.md).
#
# Usage: scripts/check-thread-safety.sh [-c CLANG++] [-C CORE_DIR] [-E ENGINE_DIR] [FILE.cpp...]
#   -c  the compiler (default: the first clang++ on PATH)
#   -C  the core tree to check (default: core/ next to this script)
#   -E  the engine tree to check (default: engine/ next to this script)
#   FILE.cpp...  only these sources (default: every .cpp under both trees)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
clang=""
core="$root/core"
engine="$root/engine"
while getopts "c:C:E:" opt; do
  case $opt in
    c) clang=$OPTARG ;;
    C) core=$OPTARG ;;
    E) engine=$OPTARG ;;
    *) echo "usage: $0 [-c CLANG++] [-C CORE_DIR] [-E ENGINE_DIR] [FILE.cpp...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

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
# analysis. -Wthread-safety-beta adds the checks Clang still calls beta; none
# misfires here.
flags=(-std=c++20 -fsyntax-only -ffreestanding -fno-exceptions -fno-rtti
  -fno-threadsafe-statics -fno-use-cxa-atexit
  -Wthread-safety -Wthread-safety-beta -Werror -ferror-limit=0 -I "$core" -I "$engine")

sources=("$@")
if [ ${#sources[@]} -eq 0 ]; then
  while IFS= read -r -d '' src; do sources+=("$src"); done \
    < <(find "$core" "$engine" -name '*.cpp' -print0 | sort -z)
fi
if [ ${#sources[@]} -eq 0 ]; then
  echo "check-thread-safety: no sources under $core and $engine" >&2
  exit 1
fi

status=0
for src in "${sources[@]}"; do
  if ! out=$("$clang" "${flags[@]}" "$src" 2>&1) || [ -n "$out" ]; then
    printf '%s\n' "$out"
    status=1
  fi
done

if [ "$status" -ne 0 ]; then
  echo "check-thread-safety: the lock discipline does not hold (docs/locking.md)" >&2
else
  echo "check-thread-safety: ${#sources[@]} core and engine sources clean ($("$clang" --version | head -n1))"
fi
exit "$status"
