#include "memory_budget.hpp"

#include "address_layout.hpp"

namespace vmsim::tracegen {

uint64_t MemoryBudget::frames_for_memory(uint64_t memory_bytes) {
  const uint64_t frames = memory_bytes / kPageSize;
  return frames / 2;
}

// One tag per frame an access at `address` may need: the data page, then the
// page table, page directory and PDPT covering it, and the process's PML4.
// The top bits tell the levels apart.
std::vector<uint64_t> MemoryBudget::frame_tags(uint64_t address) {
  return {
      0 * kLevelStep | (address >> 12),
      1 * kLevelStep | (address >> 21),
      2 * kLevelStep | (address >> 30),
      3 * kLevelStep | (address >> 39),
      4 * kLevelStep,
  };
}

uint64_t MemoryBudget::cost(uint32_t process, uint64_t address) const {
  if (address < kMinMapAddr || address >= kUserEnd) return 0;
  uint64_t frames = 0;
  for (uint64_t tag : frame_tags(address)) {
    if (charged_.count({process, tag}) == 0) ++frames;
  }
  return frames;
}

bool MemoryBudget::charge(uint32_t process, uint64_t address) {
  const uint64_t frames = cost(process, address);
  if (frames == 0) return true;
  if (used_ + frames > limit_) return false;
  for (uint64_t tag : frame_tags(address)) charged_.insert({process, tag});
  used_ += frames;
  if (pages_by_process_.size() <= process) pages_by_process_.resize(process + 1);
  pages_by_process_[process].push_back(page_down(address));
  return true;
}

bool MemoryBudget::reserve(uint64_t frames) {
  if (used_ + frames > limit_) return false;
  used_ += frames;
  return true;
}

bool MemoryBudget::fork_process(uint32_t parent, uint32_t child) {
  // Page-table tags (levels 1..4) of the parent; data pages are level 0.
  std::vector<uint64_t> tables;
  for (auto it = charged_.lower_bound({parent, kLevelStep});
       it != charged_.end() && it->first == parent; ++it) {
    if (charged_.count({child, it->second}) == 0) tables.push_back(it->second);
  }
  if (used_ + tables.size() > limit_) return false;
  for (uint64_t tag : tables) charged_.insert({child, tag});
  used_ += tables.size();
  forget_pages(parent);
  return true;
}

void MemoryBudget::forget_pages(uint32_t process) {
  charged_.erase(charged_.lower_bound({process, 0}), charged_.lower_bound({process, kLevelStep}));
  if (process < pages_by_process_.size()) pages_by_process_[process].clear();
}

std::optional<uint64_t> MemoryBudget::random_charged_page(Prng& rng, uint32_t process) const {
  if (process >= pages_by_process_.size() || pages_by_process_[process].empty()) {
    return std::nullopt;
  }
  return rng.pick(pages_by_process_[process]);
}

}  // namespace vmsim::tracegen
