// cache_put and cache_get in the address space (vm/block_cache.hpp).
//
// Both work on a range of private anonymous memory the process may write,
// and hold the map lock from start to end, so that every other thread sees
// the call as one step:
//  - the range's PTEs go first and every TLB is shot down, so no CPU reads
//    or writes the range behind the call's back (a fault waits for the map
//    lock);
//  - everything that can fail (a region split, memory for a new object)
//    comes before the first change another thread could see;
//  - the range then gets a new object of its own: an empty one after a put
//    (the range reads zero), one holding the block's frames after a get.
//    The old object's pages that only this range reached are freed, as
//    munmap frees them.
// A put copies what the range shows into frames of a new block: pages that
// sit in a shared backing object after a fork, on swap or in the compressor
// can be read but not taken. A get moves the block's frames into the new
// object without copying anything.
#include "lib/mem.hpp"
#include "locker.hpp"
#include "vm/block_cache.hpp"
#include "vm/pageout.hpp"
#include "vm/swap_pager.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_map_internal.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

// Whether [addr, end) is private anonymous memory with `w`: kFault for a
// hole or a page without `w` (the process could not write it either),
// kInval for a shared or file mapping (MADV_FREE's rule: anonymous only).
Status check_block_range(AddressSpace& as, vaddr_t addr, vaddr_t end) REQUIRES(as.lock) {
  vaddr_t cursor = addr;
  for (Region* r = vm_map_lookup(as, addr); cursor < end; r = as.regions.next(r)) {
    if (r == nullptr || r->start > cursor) return Status::kFault;
    if (r->share != Share::kPrivate || r->file != nullptr) return Status::kInval;
    if (!(r->prot & kProtWrite)) return Status::kFault;
    cursor = r->end;
  }
  return Status::kOk;
}

// The checked, page-aligned range of a put or a get.
Status block_range(vaddr_t addr, u64 len, vaddr_t* end) {
  if (!page_aligned(addr) || len == 0) return Status::kInval;
  if (!range_end(addr, len, end)) return Status::kInval;
  return Status::kOk;
}

// Gives [addr, end), already checked and split at both ends, the object
// `fresh` in place of its old ones (each piece takes a reference). Nothing
// here can fail.
void replace_objects(Vm& vm, AddressSpace& as, vaddr_t addr, vaddr_t end, VmObject* fresh,
                     TlbBatch& batch) REQUIRES(as.lock) {
  unmap_pages(vm, as, addr, end, batch);
  for (Region* r = vm_map_lookup(as, addr); r != nullptr && r->start < end;
       r = as.regions.next(r)) {
    VmObject* old = r->object;
    if (old->one_mapping) {
      MutexLocker object_lock(vm.platform, old->lock);
      vm_object_page_remove(vm, old, r->offset, r->offset + r->pages(), batch);
    }
    vm_object_reference(vm, fresh);
    {
      UseScope use(r);  // a region: the map lock's
      r->object = fresh;
      r->offset = (r->start - addr) >> kPageShift;
    }
    vm_object_deallocate(vm, old, batch);
  }
  ++as.generation;
}

// Splits the regions at the range's ends and makes the object that will
// take the range's place; nullptr (and the map as it was, but for splits)
// when memory is short.
VmObject* prepare_replacement(Vm& vm, AddressSpace& as, vaddr_t addr, vaddr_t end)
    REQUIRES(as.lock) {
  if (clip_range(vm, as, addr, end) != Status::kOk) return nullptr;
  return vm_object_allocate(vm, VmObject::Kind::kAnonymous, (end - addr) >> kPageShift, true);
}

// How taking one page's bytes went.
enum class Taken : u8 {
  kDone,     // copied into the block, or all zero (no frame)
  kBusy,     // a page of the chain is busy: wait for it, then start over
  kNoFrame,  // no frame for the copy: reclaim, then try the page again
  kAbsent,   // (one object of the chain) it holds nothing there: look further down
};

bool all_zero(const u8* bytes) {
  for (u64 i = 0; i < kPageSize; ++i)
    if (bytes[i] != 0) return false;
  return true;
}

// Copies `bytes` into a new frame of the block as its page `index`.
Taken keep_copy(Vm& vm, CacheBlock* block, u64 index, const u8* bytes) {
  if (all_zero(bytes)) return Taken::kDone;
  Page* frame = vm.pages.alloc();
  if (frame == nullptr) return Taken::kNoFrame;
  mem_copy(vm.pages.data(frame), bytes, kPageSize);
  vm.block_cache.add_frame(block, frame, index);
  return Taken::kDone;
}

// Page `index` of object `o` alone: resident, on swap or in the compressor.
Taken copy_from(Vm& vm, VmObject* o, u64 index, CacheBlock* block, u64 block_index, Page** wait)
    REQUIRES(o->lock) {
  if (Page* page = o->resident.find(index)) {
    if (page_busied(vm.platform, page)) {
      *wait = page;
      return Taken::kBusy;
    }
    return keep_copy(vm, block, block_index, vm.pages.data(page));
  }
  u8 scratch[kPageSize];
  if (!swap_pager_peek(vm, o, index, scratch)) return Taken::kAbsent;
  return keep_copy(vm, block, block_index, scratch);
}

// The bytes region `r` shows at page `index` of its object, into the
// block's page `block_index`. Each object of the chain is read under its
// own lock, taken top down as the fault takes them (vm_object_get_page):
// pageout, a fault of a fork relative or a page-in may be changing a
// backing object's page meanwhile. Not analysed: the locks follow the chain.
Taken take_page(Vm& vm, const Region& r, u64 index, CacheBlock* block, u64 block_index,
                Page** wait) NO_THREAD_SAFETY_ANALYSIS {
  VmObject* first = r.object;
  MutexLocker lock(vm.platform, first->lock);
  for (VmObject* o = first; o != nullptr; index += o->backing_offset, o = o->backing) {
    if (o != first) vm.platform.mutex_lock(o->lock);
    const Taken taken = copy_from(vm, o, index, block, block_index, wait);
    if (o != first) vm.platform.mutex_unlock(o->lock);
    if (taken != Taken::kAbsent) return taken;
  }
  return Taken::kDone;  // nothing on the chain: zero
}

// What filling the block ended with.
enum class Filled : u8 {
  kDone,
  kRetry,      // the map lock was let go of to wait for a busy page: start over
  kForgotten,  // memory ran out for the copy: the put keeps no block
};

// Copies what [addr, end) shows into `block`, its PTEs gone and shot down.
// The map lock is let go of only to wait for a busy page (not analysed for
// that reason); the wait cannot be had under it, since a fault holding a
// page busy needs the map lock to finish.
Filled fill_block(Vm& vm, AddressSpace& as, vaddr_t addr, vaddr_t end,
                  CacheBlock* block) NO_THREAD_SAFETY_ANALYSIS {
  for (vaddr_t va = addr; va < end;) {
    const Region* r = vm_map_lookup(as, va);
    Page* wait = nullptr;
    const Taken t = take_page(vm, *r, r->index_of(va), block, (va - addr) >> kPageShift, &wait);
    if (t == Taken::kDone) {
      va += kPageSize;
    } else if (t == Taken::kNoFrame) {
      // The map lock may be held across pageout; the page is tried again.
      if (!vm_reclaim(vm)) return Filled::kForgotten;
    } else {
      vm.platform.mutex_unlock(as.lock);
      vm.platform.wait_for(wait, "a busy page of a cache_put");
      vm.platform.mutex_lock(as.lock);
      return Filled::kRetry;
    }
  }
  return Filled::kDone;
}

// One attempt at a put, under the map lock; `*retry` when it must start over.
Status put_locked(Vm& vm, AddressSpace& as, BlockCacheOwner& owner, u64 id, vaddr_t addr,
                  vaddr_t end, bool* retry) REQUIRES(as.lock) {
  *retry = false;
  if (Status s = check_block_range(as, addr, end); s != Status::kOk) return s;
  VmObject* fresh = prepare_replacement(vm, as, addr, end);
  if (fresh == nullptr) return Status::kNoMem;
  TlbBatch batch(vm.platform, vm.pages);
  // No CPU may write the range while it is copied: a store through a TLB
  // entry after the copy would be lost with the old page (the mutation).
  if (!vm.mutated(Mutation::kCachePutCopiesMapped)) {
    unmap_pages(vm, as, addr, end, batch);
    batch.flush();
  }
  CacheBlock* block = vm.block_cache.create(id, (end - addr) >> kPageShift);
  const Filled filled =
      block == nullptr ? Filled::kForgotten : fill_block(vm, as, addr, end, block);
  if (filled == Filled::kDone) vm.platform.yield(YieldPoint::kCachePutCopied);
  if (filled == Filled::kRetry) {
    vm.block_cache.destroy(block);
    vm_object_deallocate(vm, fresh, batch);
    *retry = true;
    return Status::kOk;
  }
  replace_objects(vm, as, addr, end, fresh, batch);
  vm_object_deallocate(vm, fresh, batch);  // the regions hold it now
  if (filled == Filled::kForgotten) {
    if (block != nullptr) vm.block_cache.destroy(block);
    vm.block_cache.note_forgotten();
    return Status::kOk;
  }
  vm.block_cache.insert(owner, block);
  return Status::kOk;
}

// One attempt at a get, under the map lock: kHit, kMiss, or why the target
// cannot take the block (which then stays in the cache).
Status get_locked(Vm& vm, AddressSpace& as, BlockCacheOwner& owner, u64 id, vaddr_t addr)
    REQUIRES(as.lock) {
  const u64 pages = vm.block_cache.block_pages(owner, id);
  if (pages == 0) {
    vm.block_cache.note_miss();
    return Status::kMiss;
  }
  vaddr_t end = 0;
  if (Status s = block_range(addr, pages << kPageShift, &end); s != Status::kOk) return s;
  if (Status s = check_block_range(as, addr, end); s != Status::kOk) return s;
  VmObject* fresh = prepare_replacement(vm, as, addr, end);
  if (fresh == nullptr) return Status::kNoMem;
  TlbBatch batch(vm.platform, vm.pages);
  // Pageout may have forgotten it since: then nothing changes.
  CacheBlock* block = vm.block_cache.take(owner, id);
  if (block == nullptr) {
    vm_object_deallocate(vm, fresh, batch);
    return Status::kMiss;
  }
  {
    MutexLocker lock(vm.platform, fresh->lock);
    while (Page* frame = block->frames.pop_front())
      vm_object_insert(vm, fresh, frame, frame->index);
  }
  vm.block_cache.destroy(block);
  replace_objects(vm, as, addr, end, fresh, batch);
  vm_object_deallocate(vm, fresh, batch);
  return Status::kHit;
}

}  // namespace

Status vm_cache_put(Vm& vm, AddressSpace& as, BlockCacheOwner& owner, u64 id, vaddr_t addr,
                    u64 len) {
  vaddr_t end = 0;
  if (Status s = block_range(addr, len, &end); s != Status::kOk) return s;
  MutexLocker lock(vm.platform, as.lock);
  for (;;) {
    bool retry = false;
    const Status s = put_locked(vm, as, owner, id, addr, end, &retry);
    if (!retry) return s;
  }
}

Status vm_cache_get(Vm& vm, AddressSpace& as, BlockCacheOwner& owner, u64 id, vaddr_t addr) {
  MutexLocker lock(vm.platform, as.lock);
  return get_locked(vm, as, owner, id, addr);
}

}  // namespace vm
