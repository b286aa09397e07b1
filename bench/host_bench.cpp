// Google Benchmark driver for the Linux baselines (host_baseline.hpp), for
// standalone use: `host_bench` prints the host kernel's first-touch and COW
// fault rates and its resident-access rate as items_per_second.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "host_baseline.hpp"

namespace {

// Each iteration is one round; the time reported is the timed loop only.
void report(benchmark::State& state, double per_sec, int64_t events) {
  state.SetIterationTime(static_cast<double>(events) / per_sec);
}

void BM_LinuxFirstTouchFault(benchmark::State& state) {
  const auto pages = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    report(state, vmsim::bench::linux_first_touch_faults_per_sec(pages, 1), state.range(0));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LinuxFirstTouchFault)->Arg(256)->Arg(4096)->Arg(65536)->UseManualTime();

void BM_LinuxCowFault(benchmark::State& state) {
  const auto pages = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    report(state, vmsim::bench::linux_cow_faults_per_sec(pages, 1), state.range(0));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LinuxCowFault)->Arg(256)->Arg(4096)->Arg(65536)->UseManualTime();

void BM_LinuxResidentAccess(benchmark::State& state) {
  const auto pages = static_cast<size_t>(state.range(0));
  const int64_t accesses = 1 << 22;
  for (auto _ : state) {
    report(state, vmsim::bench::linux_resident_accesses_per_sec(pages, accesses), accesses);
  }
  state.SetItemsProcessed(state.iterations() * accesses);
}
BENCHMARK(BM_LinuxResidentAccess)->Arg(16)->Arg(1024)->Arg(65536)->UseManualTime();

}  // namespace
