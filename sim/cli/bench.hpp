// `vmsim bench`: the simulator's fault and access rates next to the same
// loops in this Linux process, measured in one run (docs/bench.md).
#pragma once

#include <cstdint>

namespace vmsim {

struct BenchOptions {
  uint64_t pages = 4096;  // pages touched per round
  uint64_t rounds = 16;
};

int cmd_bench(const BenchOptions& options);

}  // namespace vmsim
