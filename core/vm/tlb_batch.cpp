// TLB invalidation batching (Linux mmu_gather): record, then invalidate,
// then free. A frame deferred here is never reused while some CPU may still
// translate to it.
#include "vm/tlb_batch.hpp"

#include "vm/delayed_invalidation.hpp"
#include "vm/page_allocator.hpp"

namespace vm {

void TlbBatch::invalidate(paddr_t root, CpuSet cpus, vaddr_t va) {
  if (pending() && root != root_) flush();
  root_ = root;
  cpus_.merge(targets(cpus));
  if (all_) return;
  for (unsigned i = 0; i < count_; ++i)
    if (vas_[i] == va) return;
  if (count_ == kMaxPages) {
    all_ = true;
    count_ = 0;
    return;
  }
  vas_[count_++] = va;
}

void TlbBatch::invalidate_all(paddr_t root, CpuSet cpus) {
  if (pending() && root != root_) flush();
  root_ = root;
  cpus_.merge(targets(cpus));
  all_ = true;
  count_ = 0;
}

CpuSet TlbBatch::targets(CpuSet cpus) const {
  if (!only_cpu_) return cpus;
  CpuSet local;
  if (cpus.has(cpu_)) local.add(cpu_);
  return local;
}

void TlbBatch::defer_free(Page* page) {
  if (free_before_flush_) {
    pages_.free(page);
    return;
  }
  deferred_.push_back(page);
}

void TlbBatch::flush() {
  const bool sent = all_ || count_ > 0;
  if (all_) {
    platform_.tlb_invalidate_all(cpus_, root_);
    ++stat_full_;
  } else {
    for (unsigned i = 0; i < count_; ++i) platform_.tlb_invalidate_page(cpus_, root_, vas_[i]);
    stat_pages_ += count_;
  }
  all_ = false;
  count_ = 0;
  cpus_.clear();
  // The window between asking the CPUs and their acknowledging: a frame
  // freed before it ends could still be reached through a stale entry.
  if (sent) platform_.yield(YieldPoint::kTlbShootdown);
  if (owing != nullptr) owing->paid(platform_, *this);
  // Only now can no CPU translate to these frames.
  while (Page* page = deferred_.pop_front()) pages_.free(page);
}

}  // namespace vm
