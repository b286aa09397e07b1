#!/usr/bin/env bash
# Records valgrind lackey logs of real programs for `vmsim lackey` (spec §11,
# docs/lackey.md): sort -n, gzip and a Python one-liner. Each log goes to
# OUT/NAME.log.gz, streamed through gzip (they are hundreds of MB as text);
# nothing here is committed. The inputs are generated with fixed seeds, so a
# rerun records the same programs on the same data (the addresses may move
# with the system's libraries and ASLR, which valgrind turns off).
#
# usage: bench/record_lackey_logs.sh [OUT]   (default /tmp/vmsim-lackey)
set -euo pipefail

out=${1:-/tmp/vmsim-lackey}
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "record_lackey_logs: valgrind is not installed" >&2; exit 1; }

# Inputs: 40,000 integers for sort, 2 MiB of mixed text for gzip.
python3 - "$out" <<'PY'
import random, sys
out = sys.argv[1]
random.seed(11)
with open(f"{out}/numbers.txt", "w") as f:
    for _ in range(40000):
        f.write(f"{random.randint(-10**9, 10**9)}\n")
words = ["page", "fault", "object", "shadow", "map", "entry", "frame", "queue", "swap", "tlb"]
with open(f"{out}/text.txt", "w") as f:
    while f.tell() < 2 << 20:
        f.write(" ".join(random.choice(words) for _ in range(12)) + f" {random.random()}\n")
PY

# Runs "$@" under lackey; the log (fd 9) is compressed on the fly, the
# program's own output is dropped.
record() {
  local name=$1
  shift
  echo "record_lackey_logs: $name: $*" >&2
  valgrind --tool=lackey --trace-mem=yes --log-fd=9 "$@" 9>&1 >/dev/null 2>/dev/null |
    gzip -1 >"$out/$name.log.gz"
  ls -l "$out/$name.log.gz" >&2
}

record sort sort -n "$out/numbers.txt"
record gzip gzip -c -6 "$out/text.txt"
# The system's interpreter itself (not a wrapper script), without site
# packages: a dict of 60,000 strings, sorted and joined.
py=$(readlink -f /usr/bin/python3)
record python "$py" -S -E -c \
  'd = {i: str(i * 7919 % 100003) for i in range(60000)}; print(len(",".join(sorted(d.values()))))'
