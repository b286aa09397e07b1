// `vmsim bench`: the simulator's fault and access rates next to the same
// loops in this Linux process, measured in one run (docs/bench.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmsim {

struct BenchOptions {
  uint64_t pages = 4096;  // pages touched per round
  uint64_t rounds = 16;
};

int cmd_bench(const BenchOptions& options);

// `vmsim bench compressor FILE...`: the core's page codec against LZ4 and
// zstd -1 on files of raw memory. Exit 2 when a file cannot be read or is
// not whole 4 KiB pages.
int cmd_bench_compressor(const std::vector<std::string>& files);

}  // namespace vmsim
