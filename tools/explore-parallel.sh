#!/bin/sh
# Runs `vmsim explore` as N shards under GNU parallel, here or on other
# machines (--sshlogin), and merges the shard reports (docs/explore.md).
#
# Usage: tools/explore-parallel.sh [OPTIONS] TRACE [EXPLORE OPTIONS...]
#   --shards N        shards (default: 4 x the local CPUs)
#   -j, --jobs N      shards at a time per machine (default: its CPUs)
#   --sshlogin LIST   GNU parallel --sshlogin (e.g. ":,4/user@host"); the
#                     trace is copied there, vmsim must be at the same path
#   --vmsim PATH      vmsim binary (default: build/vmsim, else vmsim on PATH)
#   --keep DIR        keep the shard reports in DIR (default: a temporary one)
# The explore options (--bound, --reduction, --all, --bug is not one: put
# VMSIM_BUGS="a,b" in the environment) go to every shard; --json and --out
# also to the merge. Exit code: the merge's (0 pass, 1 violation, 2 bad
# input or shard reports that do not fit together, 3 internal error).
set -eu

die() {
  echo "explore-parallel: $*" >&2
  exit 2
}

command -v parallel >/dev/null 2>&1 || die "GNU parallel is not installed (Debian: apt-get install parallel)"

shards="" jobs="" sshlogin="" vmsim="" keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards=${2:?}; shift 2 ;;
    -j | --jobs) jobs=${2:?}; shift 2 ;;
    --sshlogin) sshlogin=${2:?}; shift 2 ;;
    --vmsim) vmsim=${2:?}; shift 2 ;;
    --keep) keep=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (explore options go after the trace)" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || die "a trace file is required"
trace=$1
shift
[ -r "$trace" ] || die "$trace: cannot read"
if [ -z "$vmsim" ]; then
  if [ -x build/vmsim ]; then vmsim=build/vmsim; else vmsim=$(command -v vmsim) || die "no vmsim"; fi
fi
case "$vmsim" in /*) ;; *) vmsim=$(cd "$(dirname "$vmsim")" && pwd)/$(basename "$vmsim") ;; esac
cpus=$(nproc 2>/dev/null || echo 2)
[ -n "$shards" ] || shards=$((cpus * 4))
case "$shards" in '' | *[!0-9]* | 0) die "--shards wants a positive number, got $shards" ;; esac

# VMSIM_BUGS="a,b" becomes "--bug a --bug b" (the CLI takes one name per --bug).
bugs=""
for b in $(printf '%s' "${VMSIM_BUGS:-}" | tr ',' ' '); do
  case "$b" in *[!a-z0-9-]*) die "VMSIM_BUGS: \"$b\" is not a mutation switch name" ;; esac
  bugs="$bugs --bug $b"
done

# Options for the merge: only what it reads.
merge_opts=""
prev=""
for a in "$@"; do
  case "$prev" in --out) merge_opts="$merge_opts --out $a" ;; esac
  case "$a" in --json) merge_opts="$merge_opts --json" ;; esac
  prev=$a
done

if [ -n "$keep" ]; then
  dir=$keep
  mkdir -p "$dir"
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi

# One shard: exit 0 for "no violation" and "violation" alike (the merge
# decides), the shard's own code for bad input or an internal error.
# shellcheck disable=SC2016
shard_cmd='code=0; "$0" $1 explore "$2" --shard "$3/$4" "${@:5}" > "shard-$3.json" || code=$?; [ "$code" -le 1 ] || exit "$code"'

if [ -n "$sshlogin" ]; then
  # Remote: copy the trace once per machine, bring the reports back.
  base=$(basename "$trace")
  (cd "$(dirname "$trace")" && parallel -q --halt now,fail=1 ${jobs:+-j "$jobs"} \
    --sshlogin "$sshlogin" --basefile "$base" --return "shard-{}.json" --cleanup \
    bash -c "$shard_cmd" "$vmsim" "$bugs" "$base" {} "$shards" "$@" ::: $(seq 0 $((shards - 1)))) ||
    die "a shard failed"
  mv "$(dirname "$trace")"/shard-*.json "$dir"/ 2>/dev/null || true
else
  abs_trace=$(cd "$(dirname "$trace")" && pwd)/$(basename "$trace")
  (cd "$dir" && parallel -q --halt now,fail=1 ${jobs:+-j "$jobs"} \
    bash -c "$shard_cmd" "$vmsim" "$bugs" "$abs_trace" {} "$shards" "$@" ::: $(seq 0 $((shards - 1)))) ||
    die "a shard failed"
fi

code=0
# shellcheck disable=SC2086
"$vmsim" $bugs explore --merge "$dir"/shard-*.json $merge_opts || code=$?
exit "$code"
