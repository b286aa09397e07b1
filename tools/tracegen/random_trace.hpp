// Random vmsim-trace/1 workloads for property testing. The same options give
// the same bytes on every machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vmsim::tracegen {

// What a random trace may contain, as a bit set. `anon` (the ops of the first
// milestone) is always generated; the others add the ops of the next one.
enum Feature : uint32_t {
  kFeatureAnon = 1u << 0,   // anonymous mmap, munmap, mprotect, madvise, brk, sbrk, accesses, yield
  kFeatureFiles = 1u << 1,  // "files", file mmaps, pwrite, truncate, accesses to file pages
  kFeatureFork = 1u << 2,   // fork, child processes with their own threads, forks of forks
  kFeatureExec = 1u << 3,   // exec and accesses to the new image
  kFeatureExit = 1u << 4,   // exit as the last op of a process's only thread
  kFeaturePoke = 1u << 5,   // poke into this or another live process
};
inline constexpr uint32_t kAllFeatures =
    kFeatureAnon | kFeatureFiles | kFeatureFork | kFeatureExec | kFeatureExit | kFeaturePoke;
// Edge values (not part of "all", so that its output stays as it was):
// file offsets near 2^63, lengths that wrap past 2^64, fixed mappings and
// accesses at the top of user space and in the kernel half, brk next to a
// mapping. For `vmsim linux --compare` (docs/linux.md) and the property tests.
inline constexpr uint32_t kFeatureEdges = 1u << 6;
// Not in "all" either: memory pressure. The machine gets swap (16 times its
// memory) and a compressor (a half to a sixteenth of memory), the trace's charge budget is 20 times
// the usual (the usual is half of memory, and never credits a page back), and sweeps write over
// large mappings, so that working sets reach 4-8 times memory and pageout and swap run all along
// (docs/pressure.md).
inline constexpr uint32_t kFeaturePressure = 1u << 7;
// Not in "all" either (older seeds keep their traces): direct physical
// mappings (spec §10). The machine gets one or two small devices above 4 GiB,
// processes are privileged or not (forks inherit), and device mmaps
// (eperm for the unprivileged, einval past the end) and accesses through
// them are generated.
inline constexpr uint32_t kFeatureDevice = 1u << 8;
inline constexpr uint32_t kPressureOvercommit = 20;
// Not in "all": the block cache (cache_put, cache_get), kCachePercent of the
// ops. Its misses under pressure are allowed, so digests of such traces
// differ with the memory size: the pressure-invariance tests leave it out.
inline constexpr uint32_t kFeatureCache = 1u << 12;
inline constexpr uint32_t kCachePercent = 12;
// Not in "all" either: large pages (spec §9). machine.large_pages is always,
// madvise or never at random, madvise gives hugepage and nohugepage advice
// too, and some anonymous mappings are 2-6 MiB, placed where they hold
// whole aligned 2 MiB ranges, so that first faults map large pages and
// partial munmap, mprotect, dontneed and copy-on-write writes split them
// (docs/large-pages.md).
inline constexpr uint32_t kFeatureHugepage = 1u << 9;
inline constexpr uint64_t kHugeSize = 2ull << 20;
inline constexpr uint32_t kPressureSwapFactor = 16;

// "anon,files,fork": the names of `features` in the order above (anon always
// first, as it is always on).
std::string features_text(uint32_t features);
// A comma-separated list of feature names ("anon", "files", "fork", "exec",
// "exit", "poke", "edges", "pressure", "device", or "all"); anon is implied, and so is "brk" (brk
// and sbrk are anon's ops), which is accepted for clarity. nullopt if a name is unknown or
// an item is empty.
std::optional<uint32_t> parse_features(std::string_view list);

struct RandomTraceOptions {
  uint64_t seed = 0;
  uint64_t ops = 100;                // ops in all threads together; >= threads
  uint32_t threads = 1;              // 1..64
  uint32_t cpus = 0;                 // 1..64; 0: as many as threads
  uint64_t memory = 64ull << 20;     // machine memory in bytes, page multiple
  uint32_t features = kFeatureAnon;  // Feature bits; anon is implied. With anon
                                     // alone the output is that of earlier versions.
};

inline constexpr uint32_t kMaxThreads = 64;
inline constexpr uint32_t kMaxCpus = 64;
inline constexpr uint64_t kMaxOps = 10'000'000;
inline constexpr uint64_t kMinMemory = 1ull << 20;
inline constexpr uint64_t kMaxMemory = 4ull << 30;  // the trace loader's limit

// What is wrong with `options`, or nullopt when they are usable.
std::optional<std::string> check_options(const RandomTraceOptions& options);

// The trace text (ending with a newline). Throws std::invalid_argument when
// check_options() reports a problem.
std::string make_random_trace(const RandomTraceOptions& options);

}  // namespace vmsim::tracegen
