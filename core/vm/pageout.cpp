#include "vm/pageout.hpp"

#include "locker.hpp"
#include "vm/rmap.hpp"
#include "vm/swap_pager.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {
namespace {

// The resident limit's GCLOCK: a page keeps up to this many references
// (docs/lackey.md: 3 missed least against exact LRU of 1, 2 and 3).
constexpr u8 kLimitCredit = 3;

// Frames one reclaim frees at most (Linux's SWAP_CLUSTER_MAX).
constexpr u64 kReclaimBatch = 32;
// vm_pageout_balance: below reserve + kLowWater free frames it reclaims up
// to reserve + kHighWater.
constexpr u64 kLowWater = 8;
constexpr u64 kHighWater = 32;

// Can `page` of `object` leave memory at all?
bool pageable(Vm& vm, const VmObject* object) {
  if (object->kind == VmObject::Kind::kVnode) return true;
  return (vm.swap.configured() && !vm.swap.full()) || vm.compressor.has_room();
}

struct Unmapped {
  bool dirty = false;           // written through some mapping
  bool shootdown_owed = false;  // another thread's TLB shootdown is still due
};

// Unmaps `page` everywhere and shoots down every TLB that may hold it.
Unmapped unmap_everywhere(Vm& vm, Page* page) {
  TlbBatch batch(vm.platform, vm.pages);
  Unmapped u;
  if (vm.mutated(Mutation::kPageoutDirtyRace)) {
    // Test, then clear: a CPU that writes in between sets D in a PTE that is
    // about to be cleared without being looked at again.
    u.dirty = rmap_any_dirty(vm, page);
    vm.platform.yield(YieldPoint::kPageoutPteCleared);
    rmap_unmap_all(vm, page, batch, &u.shootdown_owed);
  } else {
    u.dirty = rmap_unmap_all(vm, page, batch, &u.shootdown_owed);
    vm.platform.yield(YieldPoint::kPageoutPteCleared);
  }
  batch.flush();
  if (vm.mutated(Mutation::kPageoutIgnoresOwedShootdown)) u.shootdown_owed = false;
  return u;
}

// Writes a dirty file page back (pageout.io, the object's lock let go of).
void write_back(Vm& vm, VmObject* object, Page* page) REQUIRES(object->lock) {
  vm.platform.mutex_unlock(object->lock);
  vm.platform.yield(YieldPoint::kPageoutIo);
  vm.platform.disk_write(object->vnode->disk_id, page->index, vm.pages.data(page));
  vm.platform.mutex_lock(object->lock);
  vm.stats.writebacks.add(1);
  page->dirty = false;
}

// Remembers that the file's page `index` left memory (see VmObject::evicted).
// Pageout's own metadata: from the reserve, and without it only the
// page_ins count of a later read misses the page. An ordinary allocation
// here would be refused on behalf of whatever call ran pageout, and the
// engine would take that call's enomem for running out of memory.
void note_evicted(Vm& vm, VmObject* object, u64 index) REQUIRES(object->lock) {
  if (object->evicted.find(index) != nullptr) return;
  SwapEntry* e = vm.swap_entries.create_in(AllocClass::kReserved);
  if (e == nullptr) return;
  set_index(e, index);
  object->evicted.insert(e);
}

// Takes `page` (busy exclusive, unmapped, contents safe elsewhere) out of
// `object` and frees its frame.
void release(Vm& vm, VmObject* object, Page* page) REQUIRES(object->lock) {
  if (object->kind == VmObject::Kind::kVnode && !page->discard)
    note_evicted(vm, object, page->index);
  object->resident.remove(page);
  vm.stats.resident_user_removed();
  page_dequeue(vm, page);
  page->object = nullptr;
  page_xunbusy(vm.platform, page);
  vm.pages.free(page);
  vm.stats.reclaimed.add(1);
}

// --bug swapout-publishes-early: the slot takes the page's place in its
// object before the bytes are on it, so a fault in the window (pageout.io)
// reads the slot as it was. As built the page stays in the object, busy,
// until the write is done: a fault waits for it.
void swap_out_published_early(Vm& vm, VmObject* object, Page* page, SwapEntry* slot)
    REQUIRES(object->lock) {
  const u64 where = slot->slot;
  slot->index = page->index;
  if (!object->swap.insert(slot)) vm.platform.panic("pageout: index already on swap");
  object->resident.remove(page);
  vm.stats.resident_user_removed();
  page_dequeue(vm, page);
  page->object = nullptr;
  vm.platform.mutex_unlock(object->lock);
  vm.platform.yield(YieldPoint::kPageoutIo);
  vm.platform.swap_write(where, vm.pages.data(page));
  vm.platform.mutex_lock(object->lock);
  vm.stats.swap_outs.add(1);
  page_xunbusy(vm.platform, page);
  vm.pages.free(page);
  vm.stats.reclaimed.add(1);
}

// --bug compress-before-unmap: the page is compressed while it is still
// mapped, so a store a CPU makes between the compression and the unmap is
// lost with the frame. As built the compression comes after every PTE is
// gone and every TLB shot down (swap_pager_putpage).
bool compress_before_unmap(Vm& vm, VmObject* object, Page* page, SwapEntry* entry)
    REQUIRES(object->lock) {
  if (!vm.mutated(Mutation::kCompressBeforeUnmap) || !vm.compressor.configured()) return false;
  set_index(entry, page->index);
  vm.platform.mutex_unlock(object->lock);
  const bool stored = swap_pager_compress(vm, page, entry);
  vm.platform.yield(YieldPoint::kCompressStore);  // stored, and still mapped
  vm.platform.mutex_lock(object->lock);
  return stored;
}

// Whether the hand passes `page` by: it was referenced since the hand last
// came (its accessed bits, cleared now), which earns a credit up to
// `max_credit`, or it still has credit, which it spends.
bool spared(Vm& vm, Page* page, u8 max_credit) {
  bool referenced = false;
  {
    TlbBatch batch(vm.platform, vm.pages);
    referenced = rmap_test_clear_referenced(vm, page, batch);
  }
  if (referenced) {
    if (page->credit < max_credit) ++page->credit;
    return true;
  }
  if (page->credit == 0) return false;
  --page->credit;
  return true;
}

// One victim, its object locked. True if its frame was freed.
bool page_out(Vm& vm, VmObject* object, Page* page, u8 max_credit) REQUIRES(object->lock) {
  if (page_busied(vm.platform, page) || !pageable(vm, object)) return false;
  if (spared(vm, page, max_credit)) return false;
  if (!page_try_xbusy(vm.platform, page)) return false;
  // Everything the write-out needs is had before the page is unmapped: a
  // page that cannot leave memory stays mapped.
  SwapEntry* slot = nullptr;
  if (object->kind == VmObject::Kind::kAnonymous) {
    slot = swap_pager_reserve(vm);
    if (slot == nullptr) {
      page_xunbusy(vm.platform, page);
      return false;
    }
  }
  const bool compressed_early = slot != nullptr && compress_before_unmap(vm, object, page, slot);
  const Unmapped u = unmap_everywhere(vm, page);
  if (u.dirty) page->dirty = true;
  if (u.shootdown_owed) {
    // Some CPU may still translate to the frame (munmap between its PTE
    // clear and its shootdown): the page stays, unmapped, for a later pass.
    if (slot != nullptr) swap_pager_unreserve(vm, slot);
    page_xunbusy(vm.platform, page);
    return false;
  }
  if (slot != nullptr && slot->slot != kNoSwapSlot && !vm.compressor.configured() &&
      vm.mutated(Mutation::kSwapoutPublishesEarly)) {
    swap_out_published_early(vm, object, page, slot);
    return true;
  }
  if (compressed_early) {
    swap_pager_publish(vm, object, page, slot);
  } else if (slot != nullptr) {
    if (!swap_pager_putpage(vm, object, page, slot)) {
      page_xunbusy(vm.platform, page);  // nowhere to put it: it stays, unmapped
      return false;
    }
  } else if (page->dirty && !page->discard) {
    write_back(vm, object, page);
  }
  release(vm, object, page);
  return true;
}

// The next page in CLOCK order whose object could be locked, moved to the
// back of the queue; its object is returned locked. nullptr when the queue
// is empty.
Page* next_victim(Vm& vm, VmObject** object) NO_THREAD_SAFETY_ANALYSIS {
  LeafLocker guard(vm.platform, vm.page_queue_lock);
  Page* page = vm.page_queue.front();
  if (page == nullptr) return nullptr;
  vm.page_queue.remove(page);
  vm.page_queue.push_back(page);
  // A trylock never waits, so it may be taken under the queue's leaf lock;
  // holding the queue keeps the page, hence its object, alive until then.
  *object = vm.platform.mutex_trylock(page->object->lock) ? page->object : nullptr;
  return page;
}

}  // namespace

void page_enqueue(Vm& vm, Page* page) {
  LeafLocker guard(vm.platform, vm.page_queue_lock);
  vm.page_queue.push_back(page);
  ++vm.page_queue_length;
}

void page_dequeue(Vm& vm, Page* page) {
  LeafLocker guard(vm.platform, vm.page_queue_lock);
  vm.page_queue.remove(page);
  --vm.page_queue_length;
}

void page_set_object(Vm& vm, Page* page, VmObject* object) {
  LeafLocker guard(vm.platform, vm.page_queue_lock);
  page->object = object;
}

// Not analysed: the victim's object is locked by trylock inside
// next_victim, which hands it back through a pointer the analysis cannot
// name.
u64 vm_pageout(Vm& vm, u64 target, u8 max_credit) NO_THREAD_SAFETY_ANALYSIS {
  vm.stats.pageout_passes.add(1);
  // The block cache goes first: its blocks are copies a process can do
  // without (spec §8). A resident limit counts user pages only, which
  // forgetting blocks would not bring down.
  u64 freed = max_credit == 0 ? vm.block_cache.forget(target) : 0;
  vm.stats.reclaimed.add(freed);
  // Enough passes over the queue to spend every credit and clear every
  // accessed bit: plain CLOCK needs two.
  u64 budget = (u64{max_credit} + 2) * vm.page_queue_length + 1;
  while (freed < target && budget-- > 0) {
    VmObject* object = nullptr;
    Page* page = next_victim(vm, &object);
    if (page == nullptr) break;
    if (object == nullptr) continue;
    if (page_out(vm, object, page, max_credit)) ++freed;
    vm.platform.mutex_unlock(object->lock);
  }
  return freed;
}

// At the resident limit only what takes the user pages back under it, one
// page for the one being allocated: a memory cgroup whose limit is reached
// reclaims from its own pages, and reclaiming a batch there would leave it
// running below its limit. Its hand is a GCLOCK (kLimitCredit): the
// replacement study of docs/lackey.md measured it against exact LRU.
bool vm_reclaim(Vm& vm) {
  if (vm.at_resident_limit())
    return vm_pageout(vm, vm.stats.resident_user.load() + 1 - vm.resident_limit, kLimitCredit) != 0;
  return vm_pageout(vm, kReclaimBatch) != 0;
}

void vm_pageout_balance(Vm& vm) {
  const u64 floor = vm.pages.reserved_frames();
  const u64 free = vm.pages.stats().free_frames;
  if (free >= floor + kLowWater) return;
  vm_pageout(vm, floor + kHighWater - free);
}

}  // namespace vm
