#include "explore/ddmin.hpp"

#include <algorithm>

namespace vmsim::explore {

namespace {

// `kept` without its chunk [begin, end).
std::vector<size_t> without(const std::vector<size_t>& kept, size_t begin, size_t end) {
  std::vector<size_t> rest(kept.begin(), kept.begin() + begin);
  rest.insert(rest.end(), kept.begin() + end, kept.end());
  return rest;
}

}  // namespace

std::vector<size_t> ddmin(size_t n, const StillFails& fails) {
  std::vector<size_t> kept(n);
  for (size_t i = 0; i < n; ++i) kept[i] = i;
  size_t chunks = 2;
  while (kept.size() >= 2) {
    chunks = std::min(chunks, kept.size());
    const size_t size = (kept.size() + chunks - 1) / chunks;
    bool removed = false;
    // Try each complement (the set minus one chunk); a failing one becomes
    // the new set, with one chunk fewer.
    for (size_t begin = 0; begin < kept.size(); begin += size) {
      const size_t end = std::min(begin + size, kept.size());
      std::vector<size_t> rest = without(kept, begin, end);
      if (fails(rest)) {
        kept = std::move(rest);
        chunks = std::max<size_t>(chunks - 1, 2);
        removed = true;
        break;
      }
    }
    if (removed) continue;
    if (chunks >= kept.size()) break;  // single items: 1-minimal
    chunks = std::min(chunks * 2, kept.size());
  }
  if (kept.size() == 1 && fails({})) kept.clear();
  return kept;
}

}  // namespace vmsim::explore
