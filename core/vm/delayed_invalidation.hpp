// Delayed invalidation (FreeBSD amd64 pmap's "DI"): a thread that removed
// PTEs records their invalidations in its TlbBatch and sends them later, at
// flush. Until then another CPU may still translate through a removed entry
// — harmless while the frame stays allocated, which the remover makes sure
// of for frames it frees itself (TlbBatch::defer_free), but pageout reaches
// pages through no map lock: it may find a page whose last PTE munmap just
// removed, with munmap's shootdown still to come, and must not free it yet.
//
// So a batch that removes a PTE of an object page takes a generation, the
// page remembers the newest generation that removed one of its PTEs
// (Page::invl_gen), and the page is safe to free once every batch up to
// that generation has flushed. Pageout never waits for that (the remover
// may need a lock pageout holds): it leaves such a page for a later pass.
#pragma once

#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "lib/thread_annotations.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/tlb_batch.hpp"

namespace vm {

// Locking: lock_ is a leaf lock (taken under Vm::pmap_lock).
class DelayedInvalidations {
 public:
  // The generation of `batch`, which now owes shootdowns for PTEs of object
  // pages; the batch is registered on its first call and until its flush.
  u64 owe(Platform& platform, TlbBatch& batch);
  // `batch` sent its shootdowns (TlbBatch::flush).
  void paid(Platform& platform, TlbBatch& batch);
  // Whether every batch up to generation `gen` has sent its shootdowns
  // (true for 0, a page no batch removed a PTE of).
  bool settled(Platform& platform, u64 gen);

 private:
  Mutex lock_{"delayed_invalidations"};
  List<TlbBatch, &TlbBatch::owing_node> owing_ GUARDED_BY(lock_);  // by generation
  u64 last_gen_ GUARDED_BY(lock_) = 0;
};

}  // namespace vm
