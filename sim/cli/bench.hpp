// `vmsim bench`: the simulator's fault and access rates next to the same
// loops in this Linux process, measured in one run (docs/bench.md).
#pragma once

#include <cstdint>

namespace vmsim {

struct BenchOptions {
  uint64_t pages = 2048;  // pages touched per round
  uint64_t rounds = 8;
};

int cmd_bench(const BenchOptions& options);

}  // namespace vmsim
