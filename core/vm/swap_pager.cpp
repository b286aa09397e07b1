#include "vm/swap_pager.hpp"

#include "locker.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {
namespace {

// Oldest compressed pages moved to swap at most to make room for one more.
constexpr u32 kWritebackTries = 4;

// Out of the object's map for a swap-in: the compressor's writeback must
// not move it meanwhile.
SwapEntry* take_entry(Vm& vm, VmObject* object, u64 index) REQUIRES(object->lock) {
  SwapEntry* e = object->swap.find(index);
  if (e == nullptr) return nullptr;
  object->swap.remove(e);
  if (e->compressed.valid()) vm.compressor.untrack(e);
  return e;
}

// The compressor is full: its oldest page goes on to swap to make room for
// a younger one (XNU swaps out old segments, zswap writes back from its
// LRU). The owner's lock is held through the move; the caller holds no
// object lock. False when there is no slot or no entry whose owner is free.
bool writeback_oldest(Vm& vm) NO_THREAD_SAFETY_ANALYSIS {
  u64 slot = 0;
  if (!vm.swap.configured() || !vm.swap.alloc(&slot)) return false;
  VmObject* owner = nullptr;
  SwapEntry* e = vm.compressor.take_oldest(&owner);
  if (e == nullptr) {
    vm.swap.free(slot);
    return false;
  }
  vm.compressor.move_to_swap(e, slot);
  set_slot(e, slot);
  vm.stats.swap_outs.add(1);
  vm.platform.mutex_unlock(owner->lock);
  return true;
}

void release_entry(Vm& vm, SwapEntry* e) {
  if (e->compressed.valid()) vm.compressor.free(e);
  if (e->slot != kNoSwapSlot) vm.swap.free(e->slot);
  vm.swap_entries.destroy(e);
}

// The page `e` names, from the compressor or the swap device, into `buf`.
void read_entry(Vm& vm, const SwapEntry* e, u8* buf) {
  if (e->compressed.valid()) {
    vm.compressor.load(e, buf);
  } else {
    vm.platform.swap_read(e->slot, buf);
  }
}

// Removes the entries of `map` for pages [start, end); `with_slots`: they
// hold swap slots (VmObject::swap), else they are evicted marks.
void drop_range(Vm& vm, SwapMap& map, u64 start, u64 end, bool with_slots) {
  SwapEntry* e = map.lower_bound(start);
  while (e != nullptr && e->index < end) {
    SwapEntry* next = map.next(e);
    map.remove(e);
    if (with_slots) {
      release_entry(vm, e);
    } else {
      vm.swap_entries.destroy(e);
    }
    e = next;
  }
}

}  // namespace

// --- the device's slots -----------------------------------------------------

void SwapSpace::init(Vm& vm, u64 slots) {
  vm_ = &vm;
  slots_ = slots;
  in_use_ = 0;
  if (slots == 0) return;
  VmemArena::Config c;
  c.name = "swap";
  c.quantum = 1;
  c.pages = this;
  if (arena_.init(c) != VmemStatus::kOk || arena_.add(0, slots) != VmemStatus::kOk)
    vm.platform.panic("swap: cannot set up the slot arena");
}

bool SwapSpace::alloc(u64* slot) {
  LeafLocker guard(vm_->platform, lock_);
  if (slots_ == 0 || in_use_ == slots_) return false;
  if (arena_.alloc(1, VmemPolicy::kNextFit, slot) != VmemStatus::kOk) return false;
  ++in_use_;
  vm_->stats.swap_slots_peak.raise_to(in_use_);
  return true;
}

void SwapSpace::free(u64 slot) {
  LeafLocker guard(vm_->platform, lock_);
  if (arena_.free(slot, 1) != VmemStatus::kOk) vm_->platform.panic("swap: free of a free slot");
  --in_use_;
}

const char* SwapSpace::check() const {
  if (slots_ == 0) return in_use_ == 0 ? nullptr : "swap: slots in use without a device";
  if (const char* broken = arena_.check()) return broken;
  if (arena_.stats().alloc_bytes != in_use_) return "swap: the arena disagrees with the count";
  return nullptr;
}

// The arena's tags are pageout's metadata: they may take the reserve.
void* SwapSpace::alloc_page() {
  const AllocClass cls =
      vm_->mutated(Mutation::kPageoutNoReserve) ? AllocClass::kNormal : AllocClass::kReserved;
  Page* page = vm_->pages.alloc(cls);
  if (page == nullptr) return nullptr;
  page->state = Page::State::kKernel;
  return vm_->pages.data(page);
}

void SwapSpace::free_page(void* page) {
  vm_->pages.free(vm_->pages.page_containing(page));
}

// --- the pager ----------------------------------------------------------------

bool swap_pager_has(const VmObject* object, u64 index) REQUIRES(object->lock) {
  return object->swap.find(index) != nullptr;
}

// Not analysed, as vnode_pager_getpage: `object`'s lock is let go of for the
// read either here (own_lock) or by the caller's unlock.drop().
PagerResult swap_pager_getpage(Vm& vm, VmObject* object, u64 index, Page** out,
                               PageInUnlock& unlock, bool own_lock) NO_THREAD_SAFETY_ANALYSIS {
  vm.platform.assert_held(object->lock);
  *out = nullptr;
  Page* page = vm.alloc_user_page();
  if (page == nullptr) return PagerResult::kNoMem;
  // The busy page stands in for the slot while the read is in flight: the
  // entry leaves the tree now, the slot is freed once the bytes are in.
  SwapEntry* e = take_entry(vm, object, index);
  vm_object_insert_busy(vm, object, page, index);
  if (own_lock) vm.platform.mutex_unlock(object->lock);
  unlock.drop();
  vm.platform.yield(YieldPoint::kFaultPagerIo);
  read_entry(vm, e, vm.pages.data(page));
  unlock.retake();
  if (own_lock) vm.platform.mutex_lock(object->lock);
  release_entry(vm, e);
  vm.stats.page_ins.add(1);
  page->dirty = true;  // its only copy now
  const bool gone = page->discard;
  page_xunbusy(vm.platform, page);
  if (gone) {
    // Removed while the read was in flight: nobody may see these bytes.
    TlbBatch batch(vm.platform, vm.pages);
    vm_object_page_remove(vm, object, index, index + 1, batch);
    return PagerResult::kOk;
  }
  *out = page;
  return PagerResult::kOk;
}

SwapEntry* swap_pager_reserve(Vm& vm) {
  const AllocClass cls =
      vm.mutated(Mutation::kPageoutNoReserve) ? AllocClass::kNormal : AllocClass::kReserved;
  SwapEntry* e = vm.swap_entries.create_in(cls);
  if (e == nullptr) return nullptr;
  if (vm.swap.configured()) {
    vm.platform.yield(YieldPoint::kSwapAlloc);
    u64 slot = kNoSwapSlot;
    if (vm.swap.alloc(&slot)) set_slot(e, slot);
  }
  if (e->slot == kNoSwapSlot && !vm.compressor.has_room()) {
    vm.swap_entries.destroy(e);
    return nullptr;
  }
  return e;
}

void swap_pager_unreserve(Vm& vm, SwapEntry* entry) {
  release_entry(vm, entry);
}

bool swap_pager_putpage(Vm& vm, VmObject* object, Page* page, SwapEntry* e) REQUIRES(object->lock) {
  set_index(e, page->index);
  vm.platform.mutex_unlock(object->lock);
  bool stored = false;
  if (vm.compressor.configured()) {
    vm.platform.yield(YieldPoint::kCompressStore);
    stored = swap_pager_compress(vm, page, e);
  }
  if (!stored && e->slot != kNoSwapSlot) {
    vm.platform.yield(YieldPoint::kPageoutIo);
    vm.platform.swap_write(e->slot, vm.pages.data(page));
    vm.stats.swap_outs.add(1);
  }
  vm.platform.mutex_lock(object->lock);
  if (!e->compressed.valid() && e->slot == kNoSwapSlot) {
    release_entry(vm, e);  // incompressible or no room, and no swap: it stays
    return false;
  }
  return swap_pager_publish(vm, object, page, e);
}

bool swap_pager_compress(Vm& vm, Page* page, SwapEntry* e) {
  CompressResult r = vm.compressor.store(vm.pages.data(page), e);
  for (u32 moved = 0; r == CompressResult::kNoRoom && moved < kWritebackTries; ++moved) {
    if (!writeback_oldest(vm)) break;
    r = vm.compressor.store(vm.pages.data(page), e);
  }
  if (r != CompressResult::kStored) return false;
  if (e->slot != kNoSwapSlot) {  // reserved in case; not needed now
    vm.swap.free(e->slot);
    set_slot(e, kNoSwapSlot);
  }
  return true;
}

bool swap_pager_publish(Vm& vm, VmObject* object, Page* page, SwapEntry* e) REQUIRES(object->lock) {
  if (page->discard && !vm.mutated(Mutation::kSwapoutKeepsDiscarded)) {
    // Removed meanwhile (madvise dontneed, munmap): the copy is of nothing.
    release_entry(vm, e);
    return true;
  }
  if (!object->swap.insert(e)) vm.platform.panic("swap_pager_putpage: index already on swap");
  if (e->compressed.valid()) vm.compressor.track(e, object);
  page->dirty = false;
  return true;
}

void swap_pager_free_range(Vm& vm, VmObject* object, u64 start, u64 end) REQUIRES(object->lock) {
  drop_range(vm, object->swap, start, end, true);
}

void swap_pager_forget_evicted(Vm& vm, VmObject* object, u64 start, u64 end)
    REQUIRES(object->lock) {
  drop_range(vm, object->evicted, start, end, false);
}

void swap_pager_collapse(Vm& vm, VmObject* object, VmObject* backing)
    REQUIRES(object->lock, backing->lock) {
  const u64 window_start = object->backing_offset;
  const u64 window_end = window_start + object->size_pages;
  while (SwapEntry* e = backing->swap.first()) {
    backing->swap.remove(e);
    const bool visible = e->index >= window_start && e->index < window_end &&
                         object->resident.find(e->index - window_start) == nullptr &&
                         object->swap.find(e->index - window_start) == nullptr;
    if (!visible) {
      release_entry(vm, e);
      continue;
    }
    e->index -= window_start;
    if (!object->swap.insert(e)) vm.platform.panic("swap_pager_collapse: index taken");
    if (e->compressed.valid()) vm.compressor.set_owner(e, object);
  }
}

u64 swap_pager_next(const VmObject* object, u64 from) REQUIRES(object->lock) {
  const SwapEntry* e = object->swap.lower_bound(from);
  return e != nullptr ? e->index : ~u64{0};
}

bool swap_pager_peek(Vm& vm, const VmObject* object, u64 index, u8* buf) REQUIRES(object->lock) {
  const SwapEntry* e = object->swap.find(index);
  if (e == nullptr) return false;
  read_entry(vm, e, buf);
  return true;
}

}  // namespace vm
