#!/bin/sh
# Random traces (1 to 3 threads, whole ops in round-robin, sequential or
# stepped order) under `vmsim linux --compare` (docs/linux.md):
# COUNT seeds from FIRST, every op and the final digest must agree between
# the host kernel and vmsim. Skipped (77) where the kernel cannot be driven:
# not root, or ptrace refused.
# usage: random_compare.sh VMSIM TRACEGEN FIRST COUNT
set -u
vmsim=$1 tracegen=$2 first=$3 count=$4
[ "$(id -u)" = 0 ] || { echo "skipped: vmsim linux needs root (PR_SET_MM, the agent page)"; exit 77; }
dir=$(mktemp -d) || exit 3
trap 'rm -rf "$dir"' EXIT
failed=0
seed=$first
while [ "$seed" -lt $((first + count)) ]; do
  threads=$((seed % 3 + 1))
  "$tracegen" random --seed "$seed" --ops 120 --threads "$threads" \
    --features anon,brk,files,fork,exit,poke,edges -o "$dir/t.json" || exit 3
  if ! "$vmsim" linux --compare "$dir/t.json" > "$dir/out" 2>&1; then
    echo "seed $seed: vmsim linux --compare failed; reproduce with"
    echo "  $tracegen random --seed $seed --ops 120 --threads $threads --features anon,brk,files,fork,exit,poke,edges > t.json"
    echo "  $vmsim linux --compare t.json"
    cat "$dir/out"
    failed=$((failed + 1))
  fi
  seed=$((seed + 1))
done
echo "$count random traces from seed $first: $failed failed"
[ "$failed" = 0 ]
