#include "cli/bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <variant>
#include <vector>

#include "cli/bench_traces.hpp"
#include "host_baseline.hpp"
#include "run/runner.hpp"

namespace vmsim {
namespace bench_traces {

Op make_op(OpKind kind) {
  Op op;
  op.kind = kind;
  op.path = "bench";
  return op;
}

Op mmap_op(uint64_t len, bool populate) {
  Op op = make_op(OpKind::kMmap);
  op.addr.offset = kBase;
  op.has_addr = true;
  op.fixed = true;
  op.len = len;
  op.prot = kR | kW;
  op.populate = populate;
  return op;
}

Op touch_op(uint64_t len, uint64_t stride, bool write) {
  Op op = make_op(OpKind::kTouch);
  op.addr.offset = kBase;
  op.len = len;
  op.stride = stride;
  op.touch_write = write;
  return op;
}

Trace one_thread_trace(std::vector<Op> ops, uint64_t memory) {
  Trace t;
  t.file = "(bench)";
  t.name = "bench";
  t.machine.memory = memory;
  ThreadSpec th;
  th.name = "t0";
  th.process = "p";
  th.ops = std::move(ops);
  t.threads.push_back(std::move(th));
  return t;
}

// One timed run of `t` and the values of the stats named in `names`.
double timed_run(const Trace& t, const std::vector<std::string>& names,
                 std::vector<double>* values) {
  RunOptions options;
  options.audit = AuditMode::kOff;
  options.oracle = false;
  const auto start = std::chrono::steady_clock::now();
  auto result = run_trace(t, options);
  const auto end = std::chrono::steady_clock::now();
  if (auto* e = std::get_if<RunError>(&result)) throw std::runtime_error(e->message);
  const RunReport& r = std::get<RunReport>(result);
  if (!r.pass()) throw std::runtime_error("benchmark trace failed");
  values->clear();
  for (const std::string& n : names)
    for (const auto& [name, v] : r.stats)
      if (name == n) values->push_back(static_cast<double>(v));
  return std::chrono::duration<double>(end - start).count();
}

}  // namespace bench_traces

namespace {

using namespace bench_traces;

constexpr uint64_t kAccessStride = 64;

// First-touch faults: map, write one byte per page, unmap; `rounds` times.
Trace first_touch_trace(uint64_t pages, uint64_t rounds) {
  std::vector<Op> ops;
  for (uint64_t r = 0; r < rounds; ++r) {
    ops.push_back(mmap_op(pages << 12, false));
    ops.push_back(touch_op(pages << 12, 4096, true));
    Op unmap = make_op(OpKind::kMunmap);
    unmap.addr.offset = kBase;
    unmap.len = pages << 12;
    ops.push_back(unmap);
  }
  return one_thread_trace(std::move(ops), (pages << 12) * 2 + (64ull << 20));
}

// Non-faulting accesses: populate once, then `rounds` strided read sweeps.
Trace resident_trace(uint64_t pages, uint64_t rounds) {
  std::vector<Op> ops{mmap_op(pages << 12, true)};
  for (uint64_t r = 0; r < rounds; ++r) ops.push_back(touch_op(pages << 12, kAccessStride, false));
  return one_thread_trace(std::move(ops), (pages << 12) * 2 + (64ull << 20));
}

// Copy-on-write faults: the parent fills N pages; each round it forks a
// child that writes one byte per page (each a COW fault) and exits.
Trace cow_trace(uint64_t pages, uint64_t rounds) {
  Trace t = one_thread_trace({mmap_op(pages << 12, true)}, (pages << 12) * 3 + (64ull << 20));
  t.threads[0].ops.push_back(touch_op(pages << 12, 4096, true));
  for (uint64_t r = 0; r < rounds; ++r) {
    const std::string child = "c" + std::to_string(r);
    Op fork = make_op(OpKind::kFork);
    fork.child = child;
    t.threads[0].ops.push_back(fork);
    ThreadSpec th;
    th.name = child;
    th.process = child;
    th.ops = {touch_op(pages << 12, 4096, true), make_op(OpKind::kExit)};
    t.threads.push_back(std::move(th));
    // Parent forks, then the child runs to its exit.
    ScheduleStep parent_step;
    parent_step.kind = ScheduleStep::Kind::kOps;
    parent_step.thread = "t0";
    parent_step.ops = r == 0 ? 3 : 1;
    ScheduleStep child_step;
    child_step.thread = child;
    t.schedule.steps.push_back(parent_step);
    t.schedule.steps.push_back(child_step);
  }
  return t;
}

// Pressure: a working set of `overcommit` times memory (1 MiB per unit),
// written in full, then swept `rounds` times more with writes, so every
// sweep pages the whole set out and in again.
// With `compressor` bytes of compressor in front of swap (0: swap alone).
Trace pressure_trace(uint64_t overcommit, uint64_t rounds, uint64_t compressor) {
  const uint64_t memory = 4ull << 20;
  const uint64_t set = memory * overcommit;
  std::vector<Op> ops{mmap_op(set, false)};
  for (uint64_t r = 0; r <= rounds; ++r) ops.push_back(touch_op(set, 4096, true));
  Trace t = one_thread_trace(std::move(ops), memory);
  t.machine.swap = set * 2;
  t.machine.compressor = compressor;
  return t;
}

double seconds_to_run(const Trace& t) {
  std::vector<double> none;
  return timed_run(t, {}, &none);
}

// The median of several timings of the same trace: one run lasts only
// milliseconds, so a single timing is at the mercy of the host.
double median_seconds(const Trace& t) {
  constexpr int kRepeats = 5;
  std::vector<double> times;
  for (int i = 0; i < kRepeats; ++i) times.push_back(seconds_to_run(t));
  std::sort(times.begin(), times.end());
  return times[kRepeats / 2];
}

// Events per second, with the fixed cost of a run (engine start-up, boot)
// cancelled out: time N rounds and 2N rounds, divide the difference.
template <class MakeTrace>
double rate(MakeTrace make, uint64_t pages, uint64_t rounds, double events_per_round) {
  const double t1 = median_seconds(make(pages, rounds));
  const double t2 = median_seconds(make(pages, 2 * rounds));
  return events_per_round * static_cast<double>(rounds) / (t2 - t1);
}

void print_row(const char* what, double sim, double linux_rate) {
  std::printf("%-34s %14.0f %14.0f %10.4f\n", what, sim, linux_rate, sim / linux_rate);
}

}  // namespace

int cmd_bench(const BenchOptions& o) {
  const double pages = static_cast<double>(o.pages);
  std::printf("vmsim bench: %llu pages per round, %llu rounds (same process, same run)\n\n",
              static_cast<unsigned long long>(o.pages), static_cast<unsigned long long>(o.rounds));
  std::printf("%-34s %14s %14s %10s\n", "measure (per second)", "vmsim", "linux", "ratio");

  const double sim_faults = rate(first_touch_trace, o.pages, o.rounds, pages);
  const double linux_faults = bench::linux_first_touch_faults_per_sec(static_cast<size_t>(o.pages),
                                                                      static_cast<int>(o.rounds));
  print_row("first-touch anonymous faults", sim_faults, linux_faults);

  const double sim_cow = rate(cow_trace, o.pages, o.rounds, pages);
  const double linux_cow =
      bench::linux_cow_faults_per_sec(static_cast<size_t>(o.pages), static_cast<int>(o.rounds));
  print_row("copy-on-write faults after fork", sim_cow, linux_cow);

  const double per_sweep = pages * 4096.0 / kAccessStride;
  const double sim_accesses = rate(resident_trace, o.pages, o.rounds, per_sweep);
  const double linux_accesses = bench::linux_resident_accesses_per_sec(
      static_cast<size_t>(o.pages), static_cast<size_t>(per_sweep * static_cast<double>(o.rounds)));
  print_row("non-faulting 1-byte accesses", sim_accesses, linux_accesses);

  // Pressure, with the first-touch rate of this run as the yardstick: one
  // run that fills a working set of 4 times memory and sweeps it 8 times
  // with writes (every sweep pages it all out and in again); rates over the
  // whole run, fill included.
  std::printf("\n%-34s %14s %14s %10s\n", "pressure, 4x overcommit (per s)", "vmsim", "first-touch",
              "ratio");
  const std::vector<std::string> names = {"reclaimed", "page_ins"};
  std::vector<double> v;
  auto print_pressure = [&](const char* reclaim_row, const char* page_in_row, const Trace& trace) {
    const double t = timed_run(trace, names, &v);
    if (v.size() != 2 || t <= 0) return;
    std::printf("%-34s %14.0f %14.0f %10.4f\n", reclaim_row, v[0] / t, sim_faults,
                v[0] / t / sim_faults);
    std::printf("%-34s %14.0f %14.0f %10.4f\n", page_in_row, v[1] / t, sim_faults,
                v[1] / t / sim_faults);
  };
  print_pressure("frames reclaimed by pageout", "swap-in faults", pressure_trace(4, 8, 0));
  // The same with a compressor of a quarter of memory in front of swap: the
  // pages compress to a few bytes, so the compressor takes every victim and
  // its oldest move on to swap once its slots are full.
  print_pressure("  with a 1 MiB compressor", "  page-ins (compressor or swap)",
                 pressure_trace(4, 8, 1 << 20));

  std::printf("\ntargets: faults ratio >= 0.1; accesses >= 5,000,000/s\n");
  return 0;
}

}  // namespace vmsim
