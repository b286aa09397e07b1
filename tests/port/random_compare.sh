#!/bin/sh
# Random traces on both machines, for CTest (label `qemu`):
#   random_compare.sh VMSIM KERNEL TRACEGEN FIRST_SEED COUNT [pressure|device]
# Writes COUNT random traces (seeds FIRST_SEED...; threads, CPUs and
# features vary with the seed; with `pressure`, 600 ops on 2 threads in
# 1 MiB of RAM with 16 MiB of swap and `pageout` ops, docs/pressure.md; with
# `device`, every feature and device mappings, spec §10), replays them all in one `vmsim port run
# --compare --json` (each must meet the simulator's digest and verdict) and
# in `vmsim replay --json`, and fails unless every result line the port
# prints is the simulator's, byte for byte (violations, stats, digest,
# schedule). Exits 77 when QEMU runs cannot happen here (qemu_env.sh).
set -u
vmsim=$1
kernel=$2
tracegen=$3
first=$4
count=$5
mode=${6:-}

. "$(dirname "$0")/qemu_env.sh"
qemu_env_check "$kernel"

dir=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-random.XXXXXX")
trap 'rm -rf "$dir"' EXIT
seed=$first
last=$((first + count))
while [ "$seed" -lt "$last" ]; do
  name=$(printf '%s/r%08d.json' "$dir" "$seed")
  if [ "$mode" = pressure ]; then
    "$tracegen" random --seed "$seed" --ops 600 --threads 2 --memory 1MiB \
      --features all,pressure -o "$name" || exit 1
  elif [ "$mode" = device ]; then
    "$tracegen" random --seed "$seed" --ops $((40 + seed % 80)) --threads $((1 + seed % 4)) \
      --cpus $((1 + seed % 2)) --features all,device -o "$name" || exit 1
  else
    "$tracegen" random --seed "$seed" --ops $((40 + seed % 80)) --threads $((1 + seed % 4)) \
      --cpus $((1 + seed % 2)) --features all -o "$name" || exit 1
  fi
  seed=$((seed + 1))
done

"$vmsim" port run --compare --json --timeout 60 --kernel "$kernel" "$dir"/r*.json >"$dir/port.out"
code=$?
"$vmsim" replay --json "$dir"/r*.json >"$dir/sim.out"
if ! cmp -s "$dir/port.out" "$dir/sim.out"; then
  echo "the port's result lines differ from the simulator's:"
  diff "$dir/sim.out" "$dir/port.out" | head -20
  code=1
fi
echo "$count random traces from seed $first: port run --compare exit $code"
exit "$code"
