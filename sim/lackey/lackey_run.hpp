// `vmsim lackey`: a real program's memory accesses, from a valgrind lackey
// log, replayed through the core as one process on the emulated machine
// (spec §11, docs/lackey.md). Every 2 MiB-aligned chunk the program touches
// is mapped private, anonymous and rw at its first access; the accesses run
// in batches on the emulated CPU (Machine::batch), each #PF handled by the
// core's fault handler as in a replay. Next to the core's misses come those
// of exact LRU and of Belady's OPT on the same reference string.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lackey/lackey_log.hpp"

namespace vmsim {

struct LackeyOptions {
  uint64_t memory = 256ull << 20;  // RAM, bytes
  uint64_t swap = 1ull << 30;      // bytes
  uint64_t compressor = 0;         // bytes
  uint64_t resident_limit = 0;     // pages; 0: none (a memory-cgroup limit)
  uint64_t mutations = 0;          // vm::Mutation bits (`--bug NAME`)
};

// What `replacement` reports (spec §11).
struct ReplacementReport {
  uint64_t distinct_pages = 0;
  uint64_t capacity = 0;
  uint64_t core_misses = 0;
  uint64_t first_touch_faults = 0;  // core_misses = these + page_ins
  uint64_t lru_misses = 0;
  uint64_t opt_misses = 0;
};

struct LackeyReport {
  std::string log;
  uint64_t lines = 0;
  uint64_t accesses = 0;    // data access lines (L, S, M)
  uint64_t references = 0;  // their pages, an access that crosses a page counting twice
  // Set when the run stopped early: the program was killed for memory
  // (out-of-memory) or the core broke an invariant (invariant, panic).
  std::string violation_kind;
  std::string violation;
  std::vector<std::pair<std::string, int64_t>> stats;  // spec §8 and the replay's
  std::string digest;                                  // spec §7, process "lackey"
  bool has_replacement = false;
  ReplacementReport replacement;

  int exit_code() const { return violation_kind.empty() ? 0 : 1; }
};

struct LackeyError {
  int exit_code = 2;  // 2: the log or the options; 3: vmsim itself
  std::string message;
};

// Called every so many accesses with the log's progress.
struct LackeyProgress {
  uint64_t consumed = 0, file_size = 0, accesses = 0;
};
using LackeyProgressFn = std::function<void(const LackeyProgress&)>;

std::variant<LackeyReport, LackeyError> run_lackey(LackeyLog& log, const LackeyOptions& options,
                                                   const LackeyProgressFn& progress);

}  // namespace vmsim
