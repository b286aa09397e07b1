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

struct FragmentationOptions {
  uint64_t ram_mib = 256;
  uint64_t seed = 1;
};

// `vmsim bench fragmentation`: 2 MiB blocks left whole by a churned
// single-frame workload, per frame policy (docs/large-pages.md).
int cmd_bench_fragmentation(const FragmentationOptions& options);

struct LargePagesBenchOptions {
  uint64_t mib = 64;      // the region
  uint64_t rounds = 4;    // first-touch rounds (and 2x), one region each
  uint64_t sweeps = 128;  // read sweeps (and 2x) over the populated region
};

// `vmsim bench large-pages`: first-touch cost per 4 KiB and strided
// non-faulting reads over a region, large_pages never against always, in
// one run (docs/large-pages.md, "Measured").
int cmd_bench_large_pages(const LargePagesBenchOptions& options);

}  // namespace vmsim
