// The pages a program referenced, in order (spec §11: the pages of each
// access, an access that crosses a page boundary referencing both): the
// input of the exact LRU and OPT simulations (replacement.hpp), kept apart
// from the core so that they check it rather than repeat it.
//
// Pages are numbered densely in order of first reference. A reference to
// the page referenced just before is not kept: it hits under any policy
// that holds at least one page and changes neither LRU's order nor OPT's
// choices, and runs of them are most of a real program's references.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace vmsim {

class ReferenceString {
 public:
  // References kept at most: positions in it are 32-bit (replacement.cpp).
  static constexpr uint64_t kMaxRefs = UINT32_MAX - 1;

  // `page` is a virtual page number.
  void reference(uint64_t page) {
    if (page == last_ && !refs_.empty()) return;
    last_ = page;
    auto [it, fresh] = ids_.try_emplace(page, static_cast<uint32_t>(ids_.size()));
    (void)fresh;
    refs_.push_back(it->second);
  }

  // The id of a page referenced before.
  uint32_t id_of(uint64_t page) const { return ids_.at(page); }
  bool full() const { return refs_.size() >= kMaxRefs; }
  uint64_t distinct_pages() const { return ids_.size(); }
  const std::vector<uint32_t>& refs() const { return refs_; }

 private:
  std::unordered_map<uint64_t, uint32_t> ids_;
  std::vector<uint32_t> refs_;
  uint64_t last_ = 0;
};

}  // namespace vmsim
