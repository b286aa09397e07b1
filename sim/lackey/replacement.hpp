// Misses of two reference policies on a reference string, capacity pages
// of memory, cold misses included (spec §11 `replacement`): exact LRU, and
// Belady's OPT (evict the page whose next use is farthest, or never).
// Independent of the core: plain arrays over the dense page ids of a
// ReferenceString.
#pragma once

#include <cstdint>
#include <vector>

namespace vmsim {

// `distinct` is the number of ids (every ref is below it); capacity ≥ 1.
uint64_t lru_misses(const std::vector<uint32_t>& refs, uint64_t distinct, uint64_t capacity);
uint64_t opt_misses(const std::vector<uint32_t>& refs, uint64_t distinct, uint64_t capacity);

}  // namespace vmsim
