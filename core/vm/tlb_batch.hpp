// Invalidations gathered while an operation changes page-table entries, and
// the frames that may only be freed once those invalidations are done.
// Order of use: change PTEs (recording here) → flush() → frames freed.
#pragma once

#include "lib/types.hpp"
#include "platform.hpp"

namespace vm {

class PageAllocator;
struct Page;

class TlbBatch {
 public:
  static constexpr unsigned kMaxPages = 32;  // beyond this a full flush is cheaper

  TlbBatch(Platform& platform, PageAllocator& pages) : platform_(platform), pages_(pages) {}
  ~TlbBatch() { flush(); }
  TlbBatch(const TlbBatch&) = delete;
  TlbBatch& operator=(const TlbBatch&) = delete;

  // A present entry of the address space `root`, cached by `cpus`, changed.
  void invalidate(paddr_t root, CpuSet cpus, vaddr_t va);
  // Paging-structure entries changed (a table page was unlinked): flush all.
  void invalidate_all(paddr_t root, CpuSet cpus);
  // `page` is freed (PageAllocator::free) after the next flush.
  void defer_free(Page* page);

  // Sends the invalidations, then frees the deferred frames.
  void flush();

  u64 pages_invalidated() const { return stat_pages_; }
  u64 full_flushes() const { return stat_full_; }

 private:
  Platform& platform_;
  PageAllocator& pages_;
  // Invariant: all pending entries belong to one root; a second root forces a flush.
  paddr_t root_ = 0;
  CpuSet cpus_;
  vaddr_t vas_[kMaxPages];
  unsigned count_ = 0;
  bool all_ = false;
  Page* deferred_ = nullptr;  // singly linked through Page::queue_node.next
  u64 stat_pages_ = 0;
  u64 stat_full_ = 0;
};

}  // namespace vm
