// `vmsim bench large-pages`: what 2 MiB pages change in the simulator, with
// large_pages never and always timed in one run, interleaved
// (docs/large-pages.md, "Measured"; docs/bench.md).
//
// - First touch: map the region, write one byte per 4 KiB, unmap; the cost
//   per 4 KiB of memory (a fault per page, or one per 2 MiB that zeroes
//   the whole block).
// - Non-faulting reads, one per 4 KiB, over the populated region: more
//   pages than the emulated TLB holds. QEMU's softmmu TLB (Unicorn 2) is
//   direct-mapped with one entry per 4 KiB page whatever the guest's page
//   size (256 entries, resized only when it is flushed), so a 2 MiB page
//   does not widen its reach; a miss walks three levels instead of four.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/bench.hpp"
#include "cli/bench_traces.hpp"

namespace vmsim {
namespace {

using namespace bench_traces;

constexpr uint64_t kPage = 4096;

Trace with_large_pages(Trace t, LargePages lp) {
  t.machine.large_pages = lp;
  return t;
}

// `rounds` times: map the region, write one byte per page, unmap.
Trace first_touch(uint64_t bytes, uint64_t rounds, LargePages lp) {
  std::vector<Op> ops;
  for (uint64_t r = 0; r < rounds; ++r) {
    ops.push_back(mmap_op(bytes, false));
    ops.push_back(touch_op(bytes, kPage, true));
    Op unmap = make_op(OpKind::kMunmap);
    unmap.addr.offset = kBase;
    unmap.len = bytes;
    ops.push_back(unmap);
  }
  return with_large_pages(one_thread_trace(std::move(ops), bytes * 2 + (64ull << 20)), lp);
}

// Fault the region in with writes, then `sweeps` reads of one byte per page
// of its first `swept` bytes.
Trace read_sweeps(uint64_t bytes, uint64_t swept, uint64_t sweeps, LargePages lp) {
  std::vector<Op> ops{mmap_op(bytes, false), touch_op(bytes, kPage, true)};
  for (uint64_t s = 0; s < sweeps; ++s) ops.push_back(touch_op(swept, kPage, false));
  return with_large_pages(one_thread_trace(std::move(ops), bytes * 2 + (64ull << 20)), lp);
}

struct Timed {
  Trace trace;
  std::vector<double> seconds;
  std::vector<double> stats;  // faults, large_pages_mapped of the first run
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// This process's CPU time: the machine is shared, and a run is one thread
// (Unicorn runs on the caller's thread, the trace's threads are fibers).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Every trace timed kRepeats times, the traces interleaved so that a change
// of the host's load falls on all of them alike.
void time_interleaved(std::vector<Timed*> runs) {
  constexpr int kRepeats = 5;
  const std::vector<std::string> names = {"faults", "large_pages_mapped"};
  for (int i = 0; i < kRepeats; ++i) {
    for (Timed* t : runs) {
      std::vector<double> values;
      const double start = cpu_seconds();
      timed_run(t->trace, names, &values);
      t->seconds.push_back(cpu_seconds() - start);
      if (i == 0) t->stats = values;
    }
  }
}

// Nanoseconds per event: the difference of the n and 2n runs (fixed costs
// cancel) over the events the n more rounds make.
double ns_per(const Timed& n, const Timed& twice, double events) {
  return (median(twice.seconds) - median(n.seconds)) * 1e9 / events;
}

void print_row(const char* what, double never, double always) {
  std::printf("%-40s %12.1f %12.1f %10.3f\n", what, never, always, always / never);
}

// A count, to show what was timed (no ratio: never's large pages are 0).
void print_count(const char* what, double never, double always) {
  std::printf("%-40s %12.1f %12.1f\n", what, never, always);
}

}  // namespace

int cmd_bench_large_pages(const LargePagesBenchOptions& o) {
  if (o.mib % 2 != 0) {
    std::fprintf(stderr, "vmsim: bench large-pages: --mib %llu is not a whole number of 2 MiB\n",
                 static_cast<unsigned long long>(o.mib));
    return 2;
  }
  const uint64_t bytes = o.mib << 20;
  const double pages = static_cast<double>(bytes / kPage);
  std::printf(
      "vmsim bench large-pages: %llu MiB region (%.0f pages of 4 KiB), first touch %llu and %llu "
      "rounds,\nreads %llu and %llu sweeps of one load per 4 KiB; process CPU time, median of 5 "
      "interleaved runs each,\nn and 2n differenced\n\n",
      static_cast<unsigned long long>(o.mib), pages, static_cast<unsigned long long>(o.rounds),
      static_cast<unsigned long long>(2 * o.rounds), static_cast<unsigned long long>(o.sweeps),
      static_cast<unsigned long long>(2 * o.sweeps));

  Timed touch_never{first_touch(bytes, o.rounds, LargePages::kNever)};
  Timed touch_never2{first_touch(bytes, 2 * o.rounds, LargePages::kNever)};
  Timed touch_always{first_touch(bytes, o.rounds, LargePages::kAlways)};
  Timed touch_always2{first_touch(bytes, 2 * o.rounds, LargePages::kAlways)};
  time_interleaved({&touch_never, &touch_always, &touch_never2, &touch_always2});
  // Over the whole region, and over its first 512 KiB (128 pages: within
  // the 256 entries of QEMU's TLB) as often, so both make the same loads.
  const uint64_t near = std::min<uint64_t>(bytes, 512 << 10);
  const uint64_t near_sweeps = o.sweeps * (bytes / near);
  Timed read_never{read_sweeps(bytes, bytes, o.sweeps, LargePages::kNever)};
  Timed read_never2{read_sweeps(bytes, bytes, 2 * o.sweeps, LargePages::kNever)};
  Timed read_always{read_sweeps(bytes, bytes, o.sweeps, LargePages::kAlways)};
  Timed read_always2{read_sweeps(bytes, bytes, 2 * o.sweeps, LargePages::kAlways)};
  Timed near_never{read_sweeps(bytes, near, near_sweeps, LargePages::kNever)};
  Timed near_never2{read_sweeps(bytes, near, 2 * near_sweeps, LargePages::kNever)};
  Timed near_always{read_sweeps(bytes, near, near_sweeps, LargePages::kAlways)};
  Timed near_always2{read_sweeps(bytes, near, 2 * near_sweeps, LargePages::kAlways)};
  time_interleaved({&read_never, &read_always, &read_never2, &read_always2, &near_never,
                    &near_always, &near_never2, &near_always2});

  std::printf("%-40s %12s %12s %10s\n", "measure", "never", "always", "ratio");
  const double rounds = static_cast<double>(o.rounds);
  print_row("first touch: ns per 4 KiB", ns_per(touch_never, touch_never2, rounds * pages),
            ns_per(touch_always, touch_always2, rounds * pages));
  print_count("first touch: faults per round", touch_never.stats.at(0) / rounds,
              touch_always.stats.at(0) / rounds);
  print_count("first touch: 2 MiB pages per round", touch_never.stats.at(1) / rounds,
              touch_always.stats.at(1) / rounds);
  const double sweeps = static_cast<double>(o.sweeps);
  print_row("reads: ns per load (one per 4 KiB)", ns_per(read_never, read_never2, sweeps * pages),
            ns_per(read_always, read_always2, sweeps * pages));
  print_row("reads in 512 KiB: ns per load (same count)",
            ns_per(near_never, near_never2, sweeps * pages),
            ns_per(near_always, near_always2, sweeps * pages));
  print_count("reads: 2 MiB pages", read_never.stats.at(1), read_always.stats.at(1));
  std::printf("\nratio = always / never (below 1: large pages faster). Timings, not a test.\n");
  return 0;
}

}  // namespace vmsim
