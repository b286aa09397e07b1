// Fragmentation of the page allocator's 2 MiB blocks under a churned
// single-frame workload (`vmsim bench fragmentation`, docs/large-pages.md):
// the share of 2 MiB requests that would succeed while the workload still
// holds frames scattered over RAM. Deterministic: a seed, no clock.
#pragma once

#include <cstdint>

#include "vm/page_allocator.hpp"

namespace vmsim::bench {

struct FragmentationParams {
  uint64_t ram_bytes = 256ull << 20;
  uint64_t held_percent = 50;  // frames the churn keeps held, of those free at boot
  uint64_t seed = 1;
};

// The churn's checkpoints: after it freed (and took again) this many times
// the held level, i.e. that many turnovers of the workload's memory.
inline constexpr uint64_t kTurnovers[] = {1, 4, 16};
inline constexpr int kCheckpoints = 3;

struct FragmentationFigures {
  uint64_t usable_frames = 0;    // free at boot
  uint64_t empty_blocks = 0;     // whole 2 MiB blocks at boot
  uint64_t held_frames = 0;      // at the last checkpoint
  uint64_t free_block_room = 0;  // at the last checkpoint: free frames / 512
  // At each checkpoint: whole free blocks / (free frames / 512), the share
  // of a burst of 2 MiB requests for the free memory that would succeed.
  double share[kCheckpoints] = {};
  uint64_t burst_blocks = 0;    // alloc_block successes in a row after the last checkpoint
  const char* check = nullptr;  // the allocator's audit after the run (nullptr: sound)
};

// Boot an allocator of `p.ram_bytes` with `policy`, take 90% of its frames
// (a peak), free random ones down to `held_percent`, then make random
// single-frame allocations and frees that keep the held count within 1/16
// of RAM of that level, until 16 turnovers; the share at each checkpoint.
FragmentationFigures measure_fragmentation(const FragmentationParams& p, vm::FramePolicy policy);

}  // namespace vmsim::bench
