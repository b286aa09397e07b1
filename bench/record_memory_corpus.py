#!/usr/bin/env python3
"""Records a corpus of real process memory and runs `vmsim bench compressor` on it.

Starts a few programs whose memory is typical of what a kernel compresses (a
Python heap, a C++ compiler in the middle of a compile, a shell, a JS engine
when node is installed), lets each build up its heap, pauses it (SIGSTOP) and
dumps its resident, writable, private pages: the mappings come from
/proc/PID/maps, the resident ones from /proc/PID/pagemap (bit 63), the bytes
from /proc/PID/mem. Each program's pages go to one file of raw 4 KiB pages in
--out (not committed: they are memory images). Needs ptrace rights over its
own children (root, or kernel.yama.ptrace_scope 0).

usage: bench/record_memory_corpus.py [--out DIR] [--max-pages N] [--vmsim PATH] [--no-bench]
"""
import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

PAGE = 4096

PYTHON_HEAP = r"""
import random, sys
random.seed(7)
words = ["page", "fault", "object", "shadow", "map", "entry", "frame", "queue"]
people = [{"name": random.choice(words) + str(i), "age": random.randint(1, 99),
           "score": random.random(), "tags": [random.choice(words) for _ in range(3)]}
          for i in range(60000)]
index = {p["name"]: p for p in people}
matrix = [[float(i * j) for j in range(64)] for i in range(400)]
text = " ".join(random.choice(words) for _ in range(200000))
print("ready", flush=True)
sys.stdin.read()
"""

JS_HEAP = r"""
const words = ["page", "fault", "object", "shadow", "map", "entry", "frame", "queue"];
let seed = 7;
function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; }
const people = [];
for (let i = 0; i < 60000; i++)
  people.push({name: words[i % 8] + i, age: Math.floor(rnd() * 99), score: rnd(),
               tags: [words[i % 3], words[i % 5], words[i % 7]]});
const index = new Map(people.map(p => [p.name, p]));
const text = Array.from({length: 200000}, (_, i) => words[Math.floor(rnd() * 8)]).join(" ");
const floats = new Float64Array(100000).map((_, i) => i * 0.5);
console.log("ready");
process.stdin.resume();
"""

SHELL = r"""
declare -A table
for i in $(seq 1 20000); do table[key$i]="value-$i-$RANDOM"; done
list=()
for i in $(seq 1 20000); do list+=("item $i of the list"); done
echo ready
read -r _
"""

CXX_SOURCE = r"""
#include <algorithm>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>
template <int N> struct Fib { static constexpr long v = Fib<N - 1>::v + Fib<N - 2>::v; };
template <> struct Fib<0> { static constexpr long v = 0; };
template <> struct Fib<1> { static constexpr long v = 1; };
int main() {
  std::map<std::string, std::vector<std::regex>> m;
  std::unordered_map<int, std::string> u;
  m["a"].push_back(std::regex("[a-z]+[0-9]*"));
  std::vector<int> v(100);
  std::sort(v.begin(), v.end());
  std::cout << Fib<80>::v << m.size() << u.size() << "\n";
}
"""


def resident_private_writable(pid):
    """(start, end) of resident pages in writable private mappings, in address order."""
    ranges = []
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            perms = fields[1]
            name = fields[5] if len(fields) > 5 else ""
            if perms[1] != "w" or perms[3] != "p" or name in ("[vvar]", "[vsyscall]"):
                continue
            ranges.append((lo, hi))
    pages = []
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for lo, hi in ranges:
            pagemap.seek((lo // PAGE) * 8)
            entries = pagemap.read(((hi - lo) // PAGE) * 8)
            for i in range(len(entries) // 8):
                (e,) = struct.unpack_from("<Q", entries, i * 8)
                if e >> 63 & 1:
                    pages.append(lo + i * PAGE)
    return pages


def dump(pid, path, max_pages):
    pages = resident_private_writable(pid)
    if len(pages) > max_pages:  # an even spread over the address space, deterministic
        step = len(pages) / max_pages
        pages = [pages[int(i * step)] for i in range(max_pages)]
    written = 0
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem, open(path, "wb") as out:
        for addr in pages:
            try:
                mem.seek(addr)
                data = mem.read(PAGE)
            except OSError:
                continue
            if len(data) == PAGE:
                out.write(data)
                written += 1
    return written


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def record_interactive(name, argv, out_dir, max_pages):
    """Starts argv, waits for its 'ready' line, dumps it, ends it."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{name}: did not start ({line!r})")
        os.kill(proc.pid, signal.SIGSTOP)
        n = dump(proc.pid, os.path.join(out_dir, name + ".raw"), max_pages)
        os.kill(proc.pid, signal.SIGCONT)
        return n
    finally:
        proc.kill()
        proc.wait()


def record_compiler(out_dir, max_pages, seconds=4.0):
    """Compiles a template-heavy file with g++ -O2; pauses cc1plus mid-way and dumps it."""
    work = tempfile.mkdtemp(prefix="vmsim-cxx.")
    src = os.path.join(work, "t.cpp")
    with open(src, "w") as f:
        f.write(CXX_SOURCE)
    proc = subprocess.Popen(["g++", "-O2", "-c", src, "-o", os.path.join(work, "t.o")])
    try:
        deadline = time.time() + seconds
        cc1 = None
        while time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
            kids = children(proc.pid)
            cc1 = kids[0] if kids else cc1
        if cc1 is None or proc.poll() is not None:
            raise RuntimeError("g++: compiler finished before it could be paused")
        os.kill(cc1, signal.SIGSTOP)
        try:
            return dump(cc1, os.path.join(out_dir, "gxx-cc1plus.raw"), max_pages)
        finally:
            os.kill(cc1, signal.SIGCONT)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/vmsim-memory-corpus")
    ap.add_argument("--max-pages", type=int, default=8192, help="pages per program at most")
    ap.add_argument("--vmsim", default=os.path.join(here, "..", "build", "vmsim"))
    ap.add_argument("--no-bench", action="store_true", help="record only")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    recorded = []
    jobs = [("python-heap", lambda: record_interactive(
                "python-heap", [sys.executable, "-c", PYTHON_HEAP], args.out, args.max_pages)),
            ("gxx-cc1plus", lambda: record_compiler(args.out, args.max_pages)),
            ("bash", lambda: record_interactive(
                "bash", ["bash", "-c", SHELL], args.out, args.max_pages))]
    node = shutil.which("node")
    if node:
        jobs.append(("node-heap", lambda: record_interactive(
            "node-heap", [node, "-e", JS_HEAP], args.out, args.max_pages)))
    else:
        print("record: node not installed; no JS engine heap", file=sys.stderr)
    for name, job in jobs:
        n = job()
        print(f"record: {name}: {n} pages", file=sys.stderr)
        recorded.append(os.path.join(args.out, name + ".raw"))
    if args.no_bench:
        return 0
    return subprocess.call([args.vmsim, "bench", "compressor", *recorded])


if __name__ == "__main__":
    sys.exit(main())
