// Invalidations gathered while an operation changes page-table entries, and
// the frames that may only be freed once those invalidations are done.
// Order of use: change PTEs (recording here) → flush() → frames freed.
#pragma once

#include "lib/list.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/page.hpp"

namespace vm {

class PageAllocator;
class DelayedInvalidations;

// Locking: none. A batch is a stack object of the one operation that fills
// and flushes it (FreeBSD's per-thread pmap delayed invalidation).
class TlbBatch {
 public:
  static constexpr unsigned kMaxPages = 32;  // beyond this a full flush is cheaper

  TlbBatch(Platform& platform, PageAllocator& pages) : platform_(platform), pages_(pages) {}
  ~TlbBatch() { flush(); }
  TlbBatch(const TlbBatch&) = delete;
  TlbBatch& operator=(const TlbBatch&) = delete;

  // A present entry of the address space `root`, cached by `cpus`, changed.
  // Pending entries of another root are flushed first. The (kMaxPages+1)th
  // distinct page turns the batch into one full flush.
  void invalidate(paddr_t root, CpuSet cpus, vaddr_t va);
  // Paging-structure entries changed (a table page was unlinked): flush all.
  void invalidate_all(paddr_t root, CpuSet cpus);
  // `page` is freed (PageAllocator::free) after the next flush's
  // invalidations. It must be off every list through queue_node (the batch
  // links it there).
  void defer_free(Page* page);

  // Sends the invalidations (every recorded page, or one full flush), then
  // frees the deferred frames in the order they were deferred. The batch is
  // empty and reusable afterwards.
  void flush();

  bool pending() const { return all_ || count_ != 0; }  // invalidations to send

  // Mutation switches only (vm/mutation.hpp): each breaks the order above on
  // purpose, so a race trace can show it catches the break. From now on,
  // deferred frames are freed at once, before any invalidation is sent ...
  void free_before_flush() { free_before_flush_ = true; }
  // ... or invalidations reach only `cpu`, whichever CPUs cache the entry.
  void invalidate_only_on(unsigned cpu) {
    only_cpu_ = true;
    cpu_ = cpu;
  }

  u64 pages_invalidated() const { return stat_pages_; }
  u64 full_flushes() const { return stat_full_; }

  // Delayed invalidation (vm/delayed_invalidation.hpp): while this batch
  // owes the shootdowns of PTEs of object pages it removed, its generation
  // and its place among the owing batches (that registry's lock).
  ListNode owing_node;
  u64 owing_gen = 0;
  DelayedInvalidations* owing = nullptr;

 private:
  Platform& platform_;
  PageAllocator& pages_;
  // Invariant: all pending entries belong to one root_ (meaningful while
  // pending()); a second root forces a flush.
  paddr_t root_ = 0;
  CpuSet cpus_;  // union of the CPU sets of the pending entries
  vaddr_t vas_[kMaxPages];
  unsigned count_ = 0;  // Invariant: 0 when all_ (the full flush covers them).
  bool all_ = false;
  // Frames to free after the invalidations, in deferral order.
  List<Page, &Page::queue_node> deferred_;
  u64 stat_pages_ = 0;
  u64 stat_full_ = 0;
  bool free_before_flush_ = false;  // mutation: defer_free() frees at once
  bool only_cpu_ = false;           // mutation: invalidations go to cpu_ alone
  unsigned cpu_ = 0;

  // The CPUs an invalidation of an entry cached by `cpus` is sent to.
  CpuSet targets(CpuSet cpus) const;
};

}  // namespace vm
