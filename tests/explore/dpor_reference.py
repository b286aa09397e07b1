#!/usr/bin/env python3
"""DPOR against the reference (docs/explore.md): on every race trace (with the
core as built and under its mutation switch) and on small random traces,
`vmsim explore --reduction dpor` must find the same set of outcomes (result,
violation kinds, state digest) and the same violation kinds as `--no-por`.

Usage: dpor_reference.py VMSIM TRACEGEN RACES_DIR [--random N] [--bound B] [--jobs J]
       [--max-ref-runs R]
Random traces whose reference search needs more than R runs are skipped
(and replaced by the next seed), so that the test takes a few minutes.
Exit 0 when every comparison agrees, 1 otherwise (each difference printed).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

def race_bugs(races):
    """The mutation switch of each race trace, as traces/races/CMakeLists.txt
    declares it: vmsim_race(NAME BUG KIND MAX_RUNS ...). Every race of the
    catalogue is compared, so a new one cannot be left out."""
    bugs = {}
    with open(os.path.join(races, "CMakeLists.txt")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("vmsim_race(") and not line.startswith("vmsim_race(name"):
                words = line[len("vmsim_race("):].rstrip(")").split()
                bugs[words[0]] = words[1]
    return bugs


def explore(vmsim, trace, bug, reduction, bound, out, max_runs=0):
    cmd = [vmsim]
    for b in bug.split(",") if bug else []:
        cmd += ["--bug", b]
    cmd += ["explore", trace, "--all", "--json", "--bound", str(bound),
            "--reduction", reduction, "--out", out]
    if max_runs:
        cmd += ["--max-runs", str(max_runs)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        return None, f"exit {p.returncode}: {p.stderr.strip()}"
    r = json.loads(p.stdout)
    if r["cut"]:
        return None, "cut"
    outcomes = {(o["result"], o["kinds"], o["digest"]) for o in r["outcomes"]}
    kinds = {f["kind"] for f in r["failures"]}
    return (outcomes, kinds, r["runs"], r["equivalence_classes"]), None


def compare(args, name, trace, bug, out, max_runs=0):
    ref, err = explore(args.vmsim, trace, bug, "none", args.bound, out, max_runs)
    if err == "cut":
        return name, None, None  # too big for the reference: not compared
    if err:
        return name, f"--no-por failed: {err}", None
    dpor, err = explore(args.vmsim, trace, bug, "dpor", args.bound, out)
    if err:
        return name, f"dpor failed: {err}", None
    problems = []
    if dpor[0] != ref[0]:
        problems.append(f"outcomes differ: missed {sorted(ref[0] - dpor[0])}, "
                        f"extra {sorted(dpor[0] - ref[0])}")
    if dpor[1] != ref[1]:
        problems.append(f"violation kinds differ: {sorted(ref[1])} vs {sorted(dpor[1])}")
    return name, "; ".join(problems), (ref[2], dpor[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmsim")
    ap.add_argument("tracegen")
    ap.add_argument("races")
    ap.add_argument("--random", type=int, default=200)
    ap.add_argument("--bound", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--max-ref-runs", type=int, default=300)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dpor-ref-")
    out = os.path.join(tmp, "out")
    cases = []
    for name, bug in sorted(race_bugs(args.races).items()):
        trace = os.path.join(args.races, name + ".json")
        cases.append((name, trace, None))
        cases.append((name + " --bug " + bug, trace, bug))
    failed = compared = 0
    ref_runs = dpor_runs = 0

    def run(batch, max_runs=0):
        nonlocal failed, compared, ref_runs, dpor_runs
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(compare, args, n, t, b, out + str(i), max_runs)
                       for i, (n, t, b) in enumerate(batch)]
            for fut in concurrent.futures.as_completed(futures):
                name, problem, runs = fut.result()
                if problem is None:
                    continue
                compared += 1
                if runs:
                    ref_runs += runs[0]
                    dpor_runs += runs[1]
                if problem:
                    failed += 1
                    print(f"FAIL {name}: {problem}", flush=True)

    run(cases)
    races = compared
    # Random traces until `--random` of them were compared; one whose
    # reference search needs more than --max-ref-runs runs is skipped.
    seed = args.first_seed
    while compared - races < args.random:
        batch = []
        for _ in range(args.random - (compared - races)):
            # 2 or 3 threads, 4 or 5 ops in all: small enough for --no-por.
            threads = 2 + seed % 2
            ops = 4 + (seed // 2) % 2
            path = os.path.join(tmp, f"random-{seed}.json")
            with open(path, "w") as f:
                subprocess.run([args.tracegen, "random", "--seed", str(seed), "--ops", str(ops),
                                "--threads", str(threads), "--cpus", "2", "--features", "all",
                                "--memory", "8MiB"], stdout=f, check=True)
            batch.append((f"random seed {seed} ({threads} threads, {ops} ops)", path, None))
            seed += 1
        run(batch, args.max_ref_runs)
    print(f"{compared - failed}/{compared} agree ({races} race searches, "
          f"{compared - races} random traces, seeds {args.first_seed}..{seed - 1}); "
          f"runs --no-por {ref_runs}, dpor {dpor_runs}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
