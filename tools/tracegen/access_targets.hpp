// Choosing where accesses and range operations land: mostly inside what the
// process has mapped (by absolute address or through one of the thread's
// labels), sometimes on purpose in holes, below 0x10000, above the stack top,
// in PROT_NONE or read-only memory, or just past a mapping's end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "generator_state.hpp"

namespace vmsim::tracegen {

struct Target {
  uint64_t address = 0;  // predicted absolute address
  std::string label;     // non-empty: written as "@label+offset"
  uint64_t offset = 0;
  uint64_t room = 0;  // bytes from address to the end of its mapping (0: not mapped, as known)

  Json json() const;
};

enum class AccessIntent { kRead, kWrite };

// An offset in [0, len - size], aligned to `size`, biased towards both ends.
uint64_t pick_offset(Prng& rng, uint64_t len, uint32_t size);

// A target for one access of `size` bytes (naturally aligned), without
// charging the memory budget.
Target pick_location(GenContext& ctx, uint32_t size, AccessIntent intent);

// A target for one access of `size` bytes whose page is charged to the memory
// budget; when the budget is spent, an already charged page of the process;
// nullopt when there is none.
std::optional<Target> pick_access_target(GenContext& ctx, uint32_t size, AccessIntent intent);

// Charges the page of `target`, or replaces it with an already charged page.
std::optional<Target> charge_or_fallback(GenContext& ctx, const Target& target, uint32_t size);

// A range for munmap / mprotect / madvise: partial, whole, spanning a hole,
// wholly in a hole; rarely with an unaligned start.
struct RangeChoice {
  Target start;
  uint64_t len = 0;  // bytes, > 0
  bool aligned() const { return page_aligned(start.address); }
  uint64_t end() const { return start.address + page_up(len); }
};
RangeChoice pick_range(GenContext& ctx);

}  // namespace vmsim::tracegen
