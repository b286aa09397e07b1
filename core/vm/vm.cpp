#include "vm/vm.hpp"

#include "vm/vm_map.hpp"

namespace vm {

// Pageout must allocate to free memory (swap entries, the slot arena's
// tags): a few frames are always kept for it, whatever the trace reserves
// (Linux's min_free_kbytes is never zero either).
constexpr u64 kMinReservedFrames = 4;

Status Vm::boot(u64 ram_bytes, u64 reserved_frames, u64 swap_slots, u64 compressor_bytes) {
  pages.init(platform, ram_bytes,
             reserved_frames > kMinReservedFrames ? reserved_frames : kMinReservedFrames,
             Compressor::table_bytes(compressor_bytes));
  zero_page = pages.alloc_zeroed();
  if (zero_page == nullptr) return Status::kNoMem;
  zero_page->state = Page::State::kZero;
  objects.init("vm_object", pages, platform);
  regions.init("vm_region", pages, platform);
  spaces.init("address_space", pages, platform);
  pv_entries.init("pv_entry", pages, platform);
  swap_entries.init("swap_entry", pages, platform);
  block_cache.init(pages, platform);
  swap.init(*this, swap_slots);
  compressor.init(*this, compressor_bytes, pages.carve());
  return Status::kOk;
}

Page* Vm::alloc_user_page() {
  return at_resident_limit() ? nullptr : pages.alloc();
}

Page* Vm::alloc_user_block() {
  if (resident_limit != 0 && stats.resident_user.load() + kLargePagePages > resident_limit)
    return nullptr;
  return pages.alloc_block_zeroed(pages.frame_count() / 8);
}

Page* Vm::huge_zero_block() {
  if (Page* z = huge_zero.load()) return z;
  Page* head = alloc_user_block();
  if (head == nullptr) return nullptr;
  for (u64 i = 0; i < kLargePagePages; ++i) head[i].state = Page::State::kZero;
  Page* seen = nullptr;
  if (huge_zero.compare_exchange(&seen, head)) return head;
  // Another CPU's first use won: its block is the one.
  for (u64 i = 0; i < kLargePagePages; ++i) {
    head[i].state = Page::State::kAllocated;
    pages.free(head + i);
  }
  return seen;
}

Page* Vm::alloc_user_page_zeroed() {
  return at_resident_limit() ? nullptr : pages.alloc_zeroed();
}

}  // namespace vm
