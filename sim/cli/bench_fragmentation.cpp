// `vmsim bench fragmentation`: the share of 2 MiB block requests that would
// succeed while a churned workload holds frames scattered over RAM, for the
// allocator's frame policy and for the one-LIFO-list baseline, in one run
// (docs/large-pages.md).
#include <cstdio>
#include <string>

#include "cli/bench.hpp"
#include "fragmentation_bench.hpp"

namespace vmsim {

int cmd_bench_fragmentation(const FragmentationOptions& o) {
  const uint64_t levels[] = {25, 50, 75};
  std::printf(
      "vmsim bench fragmentation: %llu MiB of RAM, seed %llu. Per level: 90%% of the frames "
      "taken, freed at random down\nto the level, then random single-frame allocs/frees within "
      "1/16 of RAM of it. share after N turnovers\n(N x the level freed and taken again) = whole "
      "free 2 MiB blocks / (free frames / 512);\nburst = 2 MiB blocks alloc_block then gives in a "
      "row\n\n",
      static_cast<unsigned long long>(o.ram_mib), static_cast<unsigned long long>(o.seed));
  std::printf("%-6s %-22s %9s %9s %8s %8s %8s %8s\n", "held", "policy", "frames", "room 2M",
              "share 1", "share 4", "share 16", "burst");
  for (uint64_t level : levels) {
    for (vm::FramePolicy policy : {vm::FramePolicy::kLifo, vm::FramePolicy::kPreferBroken}) {
      bench::FragmentationParams p;
      p.ram_bytes = o.ram_mib << 20;
      p.held_percent = level;
      p.seed = o.seed;
      const bench::FragmentationFigures f = bench::measure_fragmentation(p, policy);
      if (f.check != nullptr) {
        std::fprintf(stderr, "vmsim: bench fragmentation: allocator audit failed: %s\n", f.check);
        return 3;
      }
      const char* name =
          policy == vm::FramePolicy::kLifo ? "lifo (before)" : "prefer-broken (after)";
      std::printf("%-6s %-22s %9llu %9llu %8.3f %8.3f %8.3f %8llu\n",
                  (std::to_string(level) + "%").c_str(), name,
                  static_cast<unsigned long long>(f.held_frames),
                  static_cast<unsigned long long>(f.free_block_room), f.share[0], f.share[1],
                  f.share[2], static_cast<unsigned long long>(f.burst_blocks));
    }
  }
  return 0;
}

}  // namespace vmsim
