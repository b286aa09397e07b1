// What the random-trace generator knows while it writes ops: per process an
// approximate shadow of the address space and the break, per thread the
// labels it bound, and the shared PRNG and memory budget.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "address_layout.hpp"
#include "address_shadow.hpp"
#include "json_forms.hpp"
#include "memory_budget.hpp"
#include "prng.hpp"

namespace vmsim::tracegen {

struct LabelInfo {
  std::string name;
  uint64_t start = 0;  // predicted start of the mapping
  uint64_t len = 0;    // page-rounded length of the mapping
};

struct ProcessState {
  uint32_t index = 0;
  std::string name;
  AddressShadow shadow;
  uint64_t brk = kInitialBreak;  // predicted current break
};

struct ThreadState {
  std::string name;
  uint32_t process = 0;  // index into the process list
  uint32_t cpu = 0;
  uint64_t quota = 0;             // ops this thread gets in all
  std::vector<LabelInfo> labels;  // bound by this thread's own mmaps, in order
  std::vector<Json> ops;
};

struct GenContext {
  Prng& rng;
  MemoryBudget& budget;
  uint64_t& next_label;  // labels are m0, m1, ... across the whole trace
  ProcessState& process;
  ThreadState& thread;
};

}  // namespace vmsim::tracegen
