// The swap pager: anonymous pages and private copies of file pages that
// pageout takes out of memory go to slots of the swap device, and come back
// on the next fault (FreeBSD's swap_pager, without its clustering).
//
//  - Slots are numbers [0, slots) handed out by a vmem arena (vm/vmem.hpp)
//    with next fit, so pages paged out together sit in consecutive slots
//    (the clusters FreeBSD's blist and Linux's cluster allocator aim for).
//  - Each object knows which of its pages are on swap: an AVL tree of
//    SwapEntry by page index, guarded by the object's lock. A page is
//    resident or on swap, never both: swap-in frees the slot at once, so a
//    page that comes back is dirty until pageout writes it out again.
//  - A slot belongs to exactly one object; fork shares it copy-on-write the
//    way it shares resident pages, by sharing the backing object: each
//    child that faults the page reads it once into the backing object and
//    then maps or copies it like any backing page. Collapse carries the
//    slots a child still sees into the child; unmap, exit and truncate free
//    them with the pages (vm_object_page_remove).
//  - Everything pageout allocates here — entries, the arena's tags — may take
//    the reserved pool (AllocClass::kReserved): it is what frees memory.
#pragma once

#include "lib/avl_tree.hpp"
#include "lib/mutex.hpp"
#include "lib/thread_annotations.hpp"
#include "lib/types.hpp"
#include "vm/swap_entry.hpp"
#include "vm/vm_object.hpp"
#include "vm/vmem.hpp"

namespace vm {

class Vm;
class VmObject;
struct Page;
class PageInUnlock;
enum class PagerResult : u8;

// The device's slot allocator. Locking: `lock` (a leaf) guards the arena
// and the counts; slots themselves belong to the entry that names them.
class SwapSpace final : public VmemPageSource {
 public:
  // `slots` pages of swap (0: no swap device).
  void init(Vm& vm, u64 slots);
  bool configured() const { return slots_ != 0; }
  u64 slots() const { return slots_; }
  u64 in_use() const { return in_use_; }
  bool full() const { return in_use_ == slots_; }

  // A free slot (next fit); false when the device is full or the arena
  // found no memory for its tags.
  bool alloc(u64* slot);
  void free(u64 slot);

  // Audit: the arena's own check, and its count against ours.
  const char* check() const;

  // VmemPageSource: bookkeeping pages for the arena's tags.
  void* alloc_page() override;
  void free_page(void* page) override;

 private:
  Vm* vm_ = nullptr;
  u64 slots_ = 0;
  u64 in_use_ = 0;   // (lock)
  VmemArena arena_;  // (lock)
  Mutex lock_{"swap_space"};
};

// Is page `index` of `object` on swap? Under the object's lock.
bool swap_pager_has(const VmObject* object, u64 index) REQUIRES(object->lock);

// Brings page `index` of `object` back from swap, under `object`'s lock: the
// new page is inserted busy and every lock is let go of for the read
// (fault.pager_io), as vnode_pager_getpage does; `own_lock` says whether
// `object`'s lock is the pager's own (taken for a chain walk) or the
// caller's (released through `unlock`). kOk with *out == nullptr: the page
// was removed meanwhile (madvise dontneed, munmap); look further down.
PagerResult swap_pager_getpage(Vm& vm, VmObject* object, u64 index, Page** out,
                               PageInUnlock& unlock, bool own_lock) REQUIRES(object->lock);

// An entry, and a slot if the device has one (swap.alloc), for the next
// swap_pager_putpage, taken before the victim is unmapped: a page that
// cannot be written out is left mapped. nullptr when there is neither a
// slot nor room in the compressor, or no memory for the entry, even from
// the reserve.
SwapEntry* swap_pager_reserve(Vm& vm);
void swap_pager_unreserve(Vm& vm, SwapEntry* entry);

// Puts `page` (busy exclusive, unmapped, of `object`, whose lock is held)
// where `entry` says: the compressor if it takes the page
// (compress.store), else `entry`'s slot (pageout.io); the lock is let go of
// meanwhile. False when neither took it (no slot was reserved and the page
// did not compress or found no room): the entry is freed and the page
// stays, unmapped.
bool swap_pager_putpage(Vm& vm, VmObject* object, Page* page, SwapEntry* entry)
    REQUIRES(object->lock);
// The two halves of putpage, for pageout's compress-before-unmap mutation:
// compress the page into `entry` (true if the compressor kept it; a
// reserved slot is then freed), and record `entry` in `object` (or drop it
// if the page was removed meanwhile).
bool swap_pager_compress(Vm& vm, Page* page, SwapEntry* entry);
bool swap_pager_publish(Vm& vm, VmObject* object, Page* page, SwapEntry* entry)
    REQUIRES(object->lock);

// Frees the slots of pages [start, end) of `object` (its lock held, or the
// object unreachable).
void swap_pager_free_range(Vm& vm, VmObject* object, u64 start, u64 end) REQUIRES(object->lock);

// Forgets the evicted marks (VmObject::evicted) of pages [start, end).
void swap_pager_forget_evicted(Vm& vm, VmObject* object, u64 start, u64 end) REQUIRES(object->lock);

// Collapse: `backing`'s slots that `object` shows (window [offset,
// offset+size) of `backing`, not covered by a resident page or a slot of
// `object`) move to `object`; the others are freed.
void swap_pager_collapse(Vm& vm, VmObject* object, VmObject* backing)
    REQUIRES(object->lock, backing->lock);

// The smallest index >= `from` of `object` with a slot, or ~0.
u64 swap_pager_next(const VmObject* object, u64 from) REQUIRES(object->lock);

// Reads the swapped page `index` of `object` into `buf` without paging it
// in (the final digest). False when it is not on swap.
bool swap_pager_peek(Vm& vm, const VmObject* object, u64 index, u8* buf) REQUIRES(object->lock);

}  // namespace vm
