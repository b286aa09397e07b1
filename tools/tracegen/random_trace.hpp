// Random vmsim-trace/1 workloads for property testing. The same options give
// the same bytes on every machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vmsim::tracegen {

struct RandomTraceOptions {
  uint64_t seed = 0;
  uint64_t ops = 100;             // ops in all threads together; >= threads
  uint32_t threads = 1;           // 1..64
  uint32_t cpus = 0;              // 1..64; 0: as many as threads
  uint64_t memory = 64ull << 20;  // machine memory in bytes, page multiple
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
