#!/usr/bin/env python3
"""A race trace with its order-dependent assertions removed: the race traces
assert the outcome of their own schedule (`expect_fault`, `schedule`,
`expect`); without them the reference model alone judges every
interleaving an explorer tries. Used by bench/explore_bench.sh and
bench/explore_throughput.sh.

Usage: free_race_trace.py TRACE OUT
"""
import json
import sys


def free_race_trace(path, out):
    t = json.load(open(path))
    for th in t["threads"]:
        for op in th["ops"]:
            op.pop("expect_fault", None)
    t.pop("schedule", None)
    t.pop("expect", None)
    with open(out, "w") as f:
        json.dump(t, f)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    free_race_trace(sys.argv[1], sys.argv[2])
