// The statistics a replay reports (docs/result-format.md), in their order:
// one home for the simulator's report, the port's result line and the trace
// loader's check of `expect.stats` names.
#pragma once

#include "lib/types.hpp"
#include "vm/vm.hpp"

namespace replay {

using vm::u64;

inline constexpr const char* kRunStatNames[] = {
    "ops",
    "accesses",
    "faults",
    "faults_zero_fill",
    "signals_segv",
    "signals_bus",
    "tlb_page_invalidations",
    "tlb_full_flushes",
    "frames_peak",
    "page_table_pages_peak",
    "regions_peak",
    "cow_copies",
    "zero_page_maps",
    "collapses",
    "max_chain",
    // Memory pressure, names fixed by spec §8 (docs/pressure.md).
    "page_ins",
    "swap_outs",
    "compressed_stores",
    "writebacks",
    "reclaimed",
    "cache_forgotten",
    "cache_hits",
    "cache_misses",
    "oom_kills",
    "resident_user_peak",
    "swap_slots_peak",
    "compressor_bytes_peak",
    // Large pages, names fixed by spec §9 (docs/large-pages.md).
    "large_pages_mapped",
    "large_page_splits",
    "large_page_fallbacks",
};
inline constexpr size_t kRunStatCount = sizeof(kRunStatNames) / sizeof(kRunStatNames[0]);

// What the machine running the trace counts itself; the rest comes from the
// core's own VmStats and page allocator.
struct RunCounters {
  u64 ops = 0;
  u64 accesses = 0;
  u64 signals_segv = 0;
  u64 signals_bus = 0;
  u64 tlb_page_invalidations = 0;
  u64 tlb_full_flushes = 0;
  u64 page_table_pages_peak = 0;
};

// values[i] is the statistic named kRunStatNames[i].
inline void run_stat_values(const vm::Vm& vm, const RunCounters& c, u64 (&values)[kRunStatCount]) {
  const vm::BlockCacheStats cache = vm.block_cache.stats();
  const u64 v[] = {
      c.ops,
      c.accesses,
      vm.stats.faults.load(),
      vm.stats.faults_zero_fill.load(),
      c.signals_segv,
      c.signals_bus,
      c.tlb_page_invalidations,
      c.tlb_full_flushes,
      vm.pages.stats().peak_in_use,
      c.page_table_pages_peak,
      vm.stats.regions_peak.load(),
      vm.stats.cow_copies.load(),
      vm.stats.zero_page_maps.load(),
      vm.stats.collapses.load(),
      vm.stats.max_chain.load(),
      vm.stats.page_ins.load(),
      vm.stats.swap_outs.load(),
      vm.stats.compressed_stores.load(),
      vm.stats.writebacks.load(),
      vm.stats.reclaimed.load(),
      cache.forgotten,
      cache.hits,
      cache.misses,
      vm.stats.oom_kills.load(),
      vm.stats.resident_user_peak.load(),
      vm.stats.swap_slots_peak.load(),
      vm.stats.compressor_bytes_peak.load(),
      vm.stats.large_pages_mapped.load(),
      vm.stats.large_page_splits.load(),
      vm.stats.large_page_fallbacks.load(),
  };
  static_assert(sizeof(v) / sizeof(v[0]) == kRunStatCount);
  for (size_t i = 0; i < kRunStatCount; ++i) values[i] = v[i];
}

}  // namespace replay
