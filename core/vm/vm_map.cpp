// Address-space operations. Every operation that clears page-table entries
// gathers its invalidations in a TlbBatch and frees frames only after the
// batch is flushed (unhook → flush → free).
#include "vm/vm_map.hpp"
#include "vm/vm_map_internal.hpp"

#include "lib/mem.hpp"
#include "locker.hpp"

#include "vm/device.hpp"
#include "vm/rmap.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {

// True if [addr, addr+len) is a valid user range without overflow.
static bool user_range(vaddr_t addr, u64 len) {
  return addr <= kUserTop && len <= kUserTop - addr;
}

// The end of [addr, addr + len rounded up), or false when it would reach
// 2^64: Linux's `end <= start` test of mprotect and madvise. Unlike
// user_range it does not stop at the top of user space; nothing is mapped
// there, so the walk finds a hole.
bool range_end(vaddr_t addr, u64 len, vaddr_t* end) {
  if (len > ~u64{0} - (kPageSize - 1)) return false;  // the rounding overflows
  const u64 rounded = page_round(len);
  if (rounded > ~u64{0} - addr) return false;
  *end = addr + rounded;
  return true;
}

static void note_region_added(Vm& vm, AddressSpace& as) REQUIRES(as.lock) {
  ++as.generation;
  vm.stats.regions_peak.raise_to(vm.stats.regions.add(1));
}

void unmap_pages(Vm& vm, AddressSpace& as, vaddr_t start, vaddr_t end, TlbBatch& batch)
    REQUIRES(as.lock) {
  rmap_remove_range(vm, as.pmap, start, end, batch);
}

// Splits the region containing `at` (strictly inside it) into two.
static Status clip(Vm& vm, AddressSpace& as, Region* r, vaddr_t at) REQUIRES(as.lock) {
  Region* tail = vm.regions.create();
  if (tail == nullptr) return Status::kNoMem;
  UseScope use_tail(tail);
  UseScope use(r);
  tail->start = at;
  tail->end = r->end;
  tail->prot = r->prot;
  tail->share = r->share;
  tail->object = r->object;
  tail->offset = r->index_of(at);
  tail->file = r->file;
  tail->file_page = r->file_page_of(at);
  tail->large_advice = r->large_advice;
  vm_object_reference(vm, r->object);
  r->end = at;
  as.regions.insert(tail);
  note_region_added(vm, as);
  return Status::kOk;
}

// Makes `start` and `end` region boundaries where they fall inside regions.
Status clip_range(Vm& vm, AddressSpace& as, vaddr_t start, vaddr_t end) REQUIRES(as.lock) {
  Region* r = vm_map_lookup(as, start);
  if (r != nullptr && r->start < start) {
    Status s = clip(vm, as, r, start);
    if (s != Status::kOk) return s;
  }
  r = vm_map_lookup(as, end - 1);
  if (r != nullptr && r->end > end) return clip(vm, as, r, end);
  return Status::kOk;
}

namespace {

void remove_region(Vm& vm, AddressSpace& as, Region* r, TlbBatch& batch) REQUIRES(as.lock) {
  VmObject* object = r->object;
  // Pages of a singly-mapped object that this range maps are unreachable
  // once the range is gone.
  if (object->one_mapping) {
    MutexLocker object_lock(vm.platform, object->lock);
    vm_object_page_remove(vm, object, r->offset, r->offset + r->pages(), batch);
  }
  as.regions.remove(r);
  ++as.generation;
  vm.stats.regions.sub(1);
  vm_object_deallocate(vm, object, batch);
  vm.regions.destroy(r);
}

// Removes the regions lying wholly inside [start, end); their page-table
// entries must already be cleared.
void remove_regions(Vm& vm, AddressSpace& as, vaddr_t start, vaddr_t end, TlbBatch& batch)
    REQUIRES(as.lock) {
  Region* r = as.regions.lower_bound(start);
  while (r != nullptr && r->start < end) {
    Region* next = as.regions.next(r);
    remove_region(vm, as, r, batch);
    r = next;
  }
}

// Removes every mapping in [start, end). Fails only if a region cannot be
// split, before anything was changed.
Status delete_range(Vm& vm, AddressSpace& as, vaddr_t start, vaddr_t end, TlbBatch& batch)
    REQUIRES(as.lock) {
  Status s = clip_range(vm, as, start, end);
  if (s != Status::kOk) return s;
  unmap_pages(vm, as, start, end, batch);
  remove_regions(vm, as, start, end, batch);
  return Status::kOk;
}

bool range_free(AddressSpace& as, vaddr_t start, vaddr_t end) REQUIRES(as.lock) {
  Region* before = as.regions.floor(start);
  if (before != nullptr && before->end > start) return false;
  Region* after = as.regions.lower_bound(start);
  return after == nullptr || after->start >= end;
}

// The highest start with [start, start+len) free inside [kMapMin, kMmapSearchTop).
bool find_space(AddressSpace& as, u64 len, vaddr_t* start) REQUIRES(as.lock) {
  vaddr_t gap_end = kMmapSearchTop;
  for (Region* r = as.regions.last(); r != nullptr; r = as.regions.prev(r)) {
    if (r->start >= gap_end) continue;
    if (r->end <= gap_end && gap_end - r->end >= len) break;
    gap_end = r->start;
  }
  if (gap_end < kMapMin || gap_end - kMapMin < len) return false;
  *start = gap_end - len;
  return true;
}

// Makes `region` (its range, rights and object reference filled in) part
// of the map. When no Region can be had, the object reference is dropped.
Status insert_region(Vm& vm, AddressSpace& as, const Region& proto, Region** out)
    REQUIRES(as.lock) {
  Region* r = vm.regions.create();
  if (r == nullptr) {
    TlbBatch batch(vm.platform, vm.pages);
    vm_object_deallocate(vm, proto.object, batch);
    return Status::kNoMem;
  }
  UseScope use(r);
  r->start = proto.start;
  r->end = proto.end;
  r->prot = proto.prot;
  r->share = proto.share;
  r->object = proto.object;
  r->offset = proto.offset;
  r->file = proto.file;
  r->file_page = proto.file_page;
  as.regions.insert(r);
  note_region_added(vm, as);
  if (out != nullptr) *out = r;
  return Status::kOk;
}

// Creates a region over a new anonymous object; `start` must be free.
Status map_anonymous(Vm& vm, AddressSpace& as, vaddr_t start, u64 len, Prot prot, Share share,
                     Region** out) REQUIRES(as.lock) {
  Region proto;
  proto.object = vm_object_allocate(vm, VmObject::Kind::kAnonymous, len >> kPageShift,
                                    share == Share::kPrivate);
  if (proto.object == nullptr) return Status::kNoMem;
  proto.start = start;
  proto.end = start + len;
  proto.prot = prot;
  proto.share = share;
  return insert_region(vm, as, proto, out);
}

// A region over a file: a shared one maps the vnode object itself, a private
// one a new shadow of it, so its writes stay its own.
Status map_file(Vm& vm, AddressSpace& as, vaddr_t start, u64 len, Prot prot, Share share,
                Vnode* file, u64 file_page, Region** out) REQUIRES(as.lock) {
  VmObject* vnode_object = file->object;
  vm_object_reference(vm, vnode_object);
  Region proto;
  proto.object = vnode_object;
  if (share == Share::kPrivate) {
    proto.object = vm_object_shadow(vm, vnode_object, file_page, len >> kPageShift);
    if (proto.object == nullptr) {
      TlbBatch batch(vm.platform, vm.pages);
      vm_object_deallocate(vm, vnode_object, batch);  // the file keeps its own
      return Status::kNoMem;
    }
  }
  proto.start = start;
  proto.end = start + len;
  proto.prot = prot;
  proto.share = share;
  proto.offset = share == Share::kShared ? file_page : 0;
  proto.file = file;
  proto.file_page = file_page;
  return insert_region(vm, as, proto, out);
}

// A region over a device's object: shared, at the device page `first_page`.
// Its pages are the device's frames; the region holds a reference on the
// object like any other, so fork shares it and munmap frees nothing.
Status map_device(Vm& vm, AddressSpace& as, vaddr_t start, u64 len, Prot prot, Device* device,
                  u64 first_page, Region** out) REQUIRES(as.lock) {
  vm_object_reference(vm, device->object);
  Region proto;
  proto.object = device->object;
  proto.start = start;
  proto.end = start + len;
  proto.prot = prot;
  proto.share = Share::kShared;
  proto.offset = first_page;
  return insert_region(vm, as, proto, out);
}

// Whether [offset, offset + len) lies within the device (both page multiples).
bool within_device(const Device& d, u64 offset, u64 len) {
  const u64 first = offset >> kPageShift;
  return first <= d.size_pages && (len >> kPageShift) <= d.size_pages - first;
}

// MAP_POPULATE: fault every page of [start, end) in now, best effort, as
// Linux does. Pages are faulted for the widest access the mapping allows.
// Unlike Linux, under the map lock taken for the mapping: to every other
// thread the mmap and its pages appear at once (a fork never sees half).
// kNoMem when a page found no frame: on Linux the OOM killer fires inside
// that fault, so the caller's process is killed (spec §8, docs/pressure.md);
// any other stop (a page past EOF) ends it quietly.
Status populate(Vm& vm, AddressSpace& as, vaddr_t start, vaddr_t end) REQUIRES(as.lock) {
  vm.platform.assert_held(as.lock);
  for (vaddr_t va = start; va < end; va += kPageSize) {
    const Region* r = vm_map_lookup(as, va);
    if (r == nullptr || r->prot == kProtNone) return Status::kOk;
    const Access access = (r->prot & kProtWrite) ? Access::kWrite : Access::kRead;
    const FaultResult f = vm_fault_map_locked(vm, as, va, access);
    if (f == FaultResult::kNoMem) return Status::kNoMem;
    if (f != FaultResult::kResolved) return Status::kOk;
  }
  return Status::kOk;
}

// The largest end (offset + length) of a file mapping: Linux's
// MAX_LFS_FILESIZE, 2^63 - 1, past which it says EOVERFLOW (vmsim: einval).
constexpr u64 kFileMapEndMax = (u64{1} << 63) - 1;

// The placement and mapping half of mmap; the caller holds the map lock and
// has checked the length. The checks come in Linux's order (do_mmap, then
// get_unmapped_area, then file_mmap_ok): a fixed range past the top is
// enomem before an unaligned or too-low address is einval, and a file
// offset that overflows is einval only once a place was found.
Status map_locked(Vm& vm, AddressSpace& as, const MmapRequest& req, u64 len, vaddr_t* start_out,
                  Region** region_out) REQUIRES(as.lock) {
  vm.platform.assert_held(as.lock);
  vaddr_t start = 0;
  if (req.fixed) {
    if (!user_range(req.addr, len)) return Status::kNoMem;
    if (!page_aligned(req.addr) || req.addr < kMapMin) return Status::kInval;
    start = req.addr;
  } else {
    const vaddr_t hint = page_trunc(req.addr);
    const bool hint_usable = req.has_addr && hint >= kMapMin && user_range(hint, len) &&
                             range_free(as, hint, hint + len);
    if (hint_usable) {
      start = hint;
    } else if (!find_space(as, len, &start)) {
      return Status::kNoMem;
    }
  }
  if (req.file != nullptr && req.offset > kFileMapEndMax - len) return Status::kInval;
  // As the file's check: einval before a fixed mmap unmaps anything.
  if (req.device != nullptr && !within_device(*req.device, req.offset, len)) return Status::kInval;

  TlbBatch batch(vm.platform, vm.pages);
  if (req.fixed) {
    // Split what must be split before anything is unmapped, so a failure
    // leaves the old mappings intact.
    Status s = delete_range(vm, as, start, start + len, batch);
    if (s != Status::kOk) return s;
  }
  Status s = req.file != nullptr ? map_file(vm, as, start, len, req.prot, req.share, req.file,
                                            req.offset >> kPageShift, region_out)
             : req.device != nullptr
                 ? map_device(vm, as, start, len, req.prot, req.device, req.offset >> kPageShift,
                              region_out)
                 : map_anonymous(vm, as, start, len, req.prot, req.share, region_out);
  if (s == Status::kOk) *start_out = start;
  return s;
}

}  // namespace

AddressSpace* vm_map_create(Vm& vm) {
  AddressSpace* as = vm.spaces.create();
  if (as == nullptr) return nullptr;
  Status s = Status::kOk;
  {
    // Nobody else can reach the new space yet; the lock is the rule anyway.
    MutexLocker lock(vm.platform, as->lock);
    s = as->pmap.init(vm.platform, vm.pages, &vm.stats.large_page_splits);
    if (vm.mutated(Mutation::kThpSplitLocalFlush)) as->pmap.split_invalidates_only_local();
  }
  if (s != Status::kOk) {
    vm.spaces.destroy(as);
    return nullptr;
  }
  return as;
}

namespace {

// The last user let go. The map lock is taken like any op's: whoever got
// it first sees the space whole, whoever gets it while the teardown runs
// waits and then finds no region and no page table.
void vm_map_teardown(Vm& vm, AddressSpace* as) {
  {
    MutexLocker lock(vm.platform, as->lock);
    as->dying = true;
    TlbBatch batch(vm.platform, vm.pages);
    // Clipping never happens at the ends of the whole user range.
    delete_range(vm, *as, 0, kUserTop, batch);
    batch.flush();
    as->pmap.destroy();
  }
  vm.spaces.destroy(as);
}

}  // namespace

void vm_map_destroy(Vm& vm, AddressSpace* as) {
  {
    MutexLocker lock(vm.platform, as->lock);
    as->dying = true;
  }
  vm_map_release(vm, as);
}

// The users count has no lock: reported under the map lock's name.
void vm_map_hold(Vm& vm, AddressSpace* as) {
  vm.platform.touched(&as->lock);
  as->users.add(1);
}

void vm_map_release(Vm& vm, AddressSpace* as) {
  vm.platform.touched(&as->lock);
  if (as->users.sub(1) == 0) vm_map_teardown(vm, as);
}

Region* vm_map_lookup(AddressSpace& as, vaddr_t va) {
  Region* r = as.regions.floor(va);
  return r != nullptr && va < r->end ? r : nullptr;
}

namespace {

// The mapping itself, under the map lock, and its MAP_POPULATE.
Status map_and_populate(Vm& vm, AddressSpace& as, const MmapRequest& req, u64 len, vaddr_t* start,
                        Region** r) EXCLUDES(as.lock) {
  MutexLocker lock(vm.platform, as.lock);
  Status s = map_locked(vm, as, req, len, start, r);
  if (s == Status::kOk && req.populate) s = populate(vm, as, *start, *start + len);
  return s;
}

}  // namespace

Status vm_mmap(Vm& vm, AddressSpace& as, const MmapRequest& req, vaddr_t* start_out) {
  // Linux checks the offset's alignment before anything else, even the length.
  const bool has_offset = req.file != nullptr || req.device != nullptr;
  if (has_offset && !page_aligned(req.offset)) return Status::kInval;
  if (req.device != nullptr && req.share != Share::kShared) return Status::kInval;
  if (req.len == 0) return Status::kInval;
  if (req.len > kUserTop) return Status::kNoMem;
  const u64 len = page_round(req.len);
  vaddr_t start = 0;
  Region* r = nullptr;
  // A populated file mapping takes the file's pages as of one moment: a
  // pwrite or truncate (each holds the file's I/O lock through its whole
  // op) goes before or after it, never between two of its pages. Lock
  // order: the I/O lock, then the map lock.
  Status s = Status::kOk;
  if (req.populate && req.file != nullptr) {
    MutexLocker io(vm.platform, req.file->io_lock);
    s = map_and_populate(vm, as, req, len, &start, &r);
  } else {
    s = map_and_populate(vm, as, req, len, &start, &r);
  }
  if (s != Status::kOk) return s;
  *start_out = start;
  return Status::kOk;
}

Status vm_munmap(Vm& vm, AddressSpace& as, vaddr_t addr, u64 len) {
  if (!page_aligned(addr) || len == 0) return Status::kInval;
  if (!user_range(addr, len) || !user_range(addr, page_round(len))) return Status::kInval;
  const vaddr_t end = addr + page_round(len);
  MutexLocker lock(vm.platform, as.lock);
  TlbBatch batch(vm.platform, vm.pages);
  Status s = clip_range(vm, as, addr, end);
  if (s != Status::kOk) return s;
  unmap_pages(vm, as, addr, end, batch);
  vm.platform.yield(YieldPoint::kMunmapPteCleared);
  if (vm.mutated(Mutation::kMunmapEarlyFree)) batch.free_before_flush();
  remove_regions(vm, as, addr, end, batch);
  return Status::kOk;
}

Status vm_mprotect(Vm& vm, AddressSpace& as, vaddr_t addr, u64 len, Prot prot) {
  if (!page_aligned(addr)) return Status::kInval;
  if (len == 0) return Status::kOk;
  // No top-of-user-space check, as in Linux: a range that runs past it is
  // changed up to the hole there, then fails.
  vaddr_t end = 0;
  if (!range_end(addr, len, &end)) return Status::kNoMem;
  MutexLocker lock(vm.platform, as.lock);
  Region* r = vm_map_lookup(as, addr);
  if (r == nullptr) return Status::kNoMem;

  TlbBatch batch(vm.platform, vm.pages);
  // As Linux does, regions before a hole keep the new protection.
  for (vaddr_t cursor = addr;;) {
    if (r->start < cursor && clip(vm, as, r, cursor) != Status::kOk) return Status::kNoMem;
    if (r->start < cursor) r = as.regions.next(r);
    if (r->end > end && clip(vm, as, r, end) != Status::kOk) return Status::kNoMem;
    if (prot == kProtNone) {
      unmap_pages(vm, as, r->start, r->end, batch);
    } else {
      rmap_protect_range(vm, as.pmap, r->start, r->end, pte_attrs_for(prot), batch);
    }
    {
      UseScope use(vm.mutated(Mutation::kSlabWriteWithoutUse) ? nullptr : r);
      r->prot = prot;
    }
    ++as.generation;
    cursor = r->end;
    if (cursor >= end) return Status::kOk;
    r = as.regions.next(r);
    if (r == nullptr || r->start != cursor) return Status::kNoMem;
  }
}

namespace {

// madvise(DONTNEED) of private pages [s, e) of `r`: they must read as the
// mapping's origin again (zero). An object of its own can just drop them; an
// object with a backing one would show the backing pages, so the range gets
// a fresh object of its own instead.
Status discard_private(Vm& vm, AddressSpace& as, Region*& r, vaddr_t s, vaddr_t e, TlbBatch& batch)
    REQUIRES(as.lock) {
  if (r->object->backing == nullptr) {
    MutexLocker object_lock(vm.platform, r->object->lock);
    vm_object_page_remove(vm, r->object, r->index_of(s), r->index_of(e), batch);
    return Status::kOk;
  }
  if (r->start < s) {
    if (clip(vm, as, r, s) != Status::kOk) return Status::kNoMem;
    r = as.regions.next(r);
  }
  if (r->end > e && clip(vm, as, r, e) != Status::kOk) return Status::kNoMem;
  // A private file mapping starts over as a new shadow of the file.
  VmObject* fresh = nullptr;
  if (r->file != nullptr) {
    vm_object_reference(vm, r->file->object);
    fresh = vm_object_shadow(vm, r->file->object, r->file_page, r->pages());
    if (fresh == nullptr) vm_object_deallocate(vm, r->file->object, batch);
  } else {
    fresh = vm_object_allocate(vm, VmObject::Kind::kAnonymous, r->pages(), true);
  }
  if (fresh == nullptr) return Status::kNoMem;
  vm_object_deallocate(vm, r->object, batch);
  UseScope use(r);
  r->object = fresh;
  r->offset = 0;
  ++as.generation;
  return Status::kOk;
}

// madvise(HUGEPAGE / NOHUGEPAGE): the advice is the regions' own, so they
// are clipped to [addr, end) like mprotect does (Linux splits the VMA for
// the flag). Nothing mapped changes: only later first faults look at it.
Status advise_large(Vm& vm, AddressSpace& as, vaddr_t addr, vaddr_t end, LargeAdvice advice)
    REQUIRES(as.lock) {
  vaddr_t cursor = addr;
  bool hole = false;
  Region* r = vm_map_lookup(as, addr);
  if (r == nullptr) r = as.regions.lower_bound(addr);
  while (r != nullptr && r->start < end) {
    if (r->start > cursor) hole = true;
    if (r->start < addr) {
      if (clip(vm, as, r, addr) != Status::kOk) return Status::kNoMem;
      r = as.regions.next(r);
    }
    if (r->end > end && clip(vm, as, r, end) != Status::kOk) return Status::kNoMem;
    {
      UseScope use(r);
      r->large_advice = advice;
    }
    cursor = r->end;
    r = as.regions.next(r);
  }
  ++as.generation;
  return hole || cursor < end ? Status::kNoMem : Status::kOk;
}

}  // namespace

Status vm_madvise(Vm& vm, AddressSpace& as, vaddr_t addr, u64 len, Advice advice) {
  if (!page_aligned(addr)) return Status::kInval;
  if (len == 0) return Status::kOk;
  // A range that wraps is einval (Linux); one past the top of user space is
  // advised up to the hole there, then fails like any other hole.
  vaddr_t end = 0;
  if (!range_end(addr, len, &end)) return Status::kInval;
  MutexLocker lock(vm.platform, as.lock);
  if (advice == Advice::kHugePage || advice == Advice::kNoHugePage)
    return advise_large(vm, as, addr, end,
                        advice == Advice::kHugePage ? LargeAdvice::kHuge : LargeAdvice::kNoHuge);
  TlbBatch batch(vm.platform, vm.pages);

  // Linux applies the advice to every mapped part and reports a hole after.
  vaddr_t cursor = addr;
  bool hole = false;
  Region* r = vm_map_lookup(as, addr);
  if (r == nullptr) r = as.regions.lower_bound(addr);
  for (; r != nullptr && r->start < end; r = as.regions.next(r)) {
    const vaddr_t s = r->start > addr ? r->start : addr;
    const vaddr_t e = r->end < end ? r->end : end;
    if (s > cursor) hole = true;
    cursor = e;
    if (advice != Advice::kDontNeed) continue;
    unmap_pages(vm, as, s, e, batch);
    // Shared pages keep their content; private ones show the origin again.
    if (r->share == Share::kPrivate && discard_private(vm, as, r, s, e, batch) != Status::kOk)
      return Status::kNoMem;
  }
  if (cursor < end) hole = true;
  return hole ? Status::kNoMem : Status::kOk;
}

namespace {

// brk with the map lock held: the break is read and moved in one critical
// section, so two threads' sbrk never hand out the same old break.
//
// Linux's brk refuses (and keeps the break) in the cases below; it has no
// error codes, vmsim's einval and enomem tell the refusals apart.
Status brk_locked(Vm& vm, AddressSpace& as, vaddr_t addr) REQUIRES(as.lock) {
  vm.platform.assert_held(as.lock);
  if (addr < as.brk_start) return Status::kInval;
  if (addr > kUserTop) return Status::kNoMem;
  const vaddr_t old_end = page_round(as.brk);
  const vaddr_t new_end = page_round(addr);
  if (new_end > old_end) {
    // The heap keeps a free page between itself and the next mapping.
    if (!range_free(as, old_end, new_end + kPageSize)) return Status::kNoMem;
    Status s = map_anonymous(vm, as, old_end, new_end - old_end, kProtRead | kProtWrite,
                             Share::kPrivate, nullptr);
    if (s != Status::kOk) return s;
  } else if (new_end < old_end) {
    // A shrink with nothing left to unmap below the old break is refused.
    if (range_free(as, new_end, old_end)) return Status::kNoMem;
    TlbBatch batch(vm.platform, vm.pages);
    Status s = delete_range(vm, as, new_end, old_end, batch);
    if (s != Status::kOk) return s;
  }
  as.brk = addr;
  return Status::kOk;
}

}  // namespace

Status vm_brk(Vm& vm, AddressSpace& as, vaddr_t addr, vaddr_t* brk_out) {
  MutexLocker lock(vm.platform, as.lock);
  const Status s = brk_locked(vm, as, addr);
  if (brk_out != nullptr) *brk_out = as.brk;
  return s;
}

Status vm_sbrk(Vm& vm, AddressSpace& as, i64 incr, vaddr_t* old_break) {
  MutexLocker lock(vm.platform, as.lock);
  const vaddr_t old = as.brk;
  vaddr_t target;
  if (incr < 0) {
    const u64 down = u64{0} - static_cast<u64>(incr);
    if (down > old - as.brk_start) return Status::kInval;
    target = old - down;
  } else {
    if (static_cast<u64>(incr) > kUserTop - old) return Status::kNoMem;
    target = old + static_cast<u64>(incr);
  }
  Status s = brk_locked(vm, as, target);
  if (s == Status::kOk) *old_break = old;
  return s;
}

}  // namespace vm

namespace vm {
namespace {

// --bug fork-protect-unlocked: each PTE is read, then written back read-only,
// without the pmap lock, so pageout clearing it in between (the page leaving
// memory) is undone: the parent maps a frame that was freed.
void write_protect_unlocked(Vm& vm, Pmap& pmap, vaddr_t start, vaddr_t end, PteAttrs ro,
                            TlbBatch& batch) {
  for (vaddr_t va = start; va < end; va += kPageSize) {
    paddr_t pa = 0;
    if (!pmap.extract(va, &pa, nullptr)) continue;
    vm.platform.yield(YieldPoint::kForkProtect);
    (void)pmap.enter(va, page_trunc(pa), ro, batch);
  }
}

// The child's copy of one private region. An object nothing was ever written
// to needs no sharing: the child gets a fresh one. Otherwise both sides
// shadow it, so each sees its own writes and both see the old pages.
Status fork_private(Vm& vm, AddressSpace& parent, Region& r, Region& c, TlbBatch& batch)
    REQUIRES(parent.lock) {
  VmObject* old = r.object;
  bool untouched = false;
  {
    MutexLocker object_lock(vm.platform, old->lock);
    // A parent whose earlier children exited meets its chain here first.
    vm_object_collapse(vm, old, batch);
    untouched = old->backing == nullptr && old->resident.empty() && old->swap.empty();
  }
  UseScope use_child(&c);
  if (untouched) {
    c.object = vm_object_allocate(vm, VmObject::Kind::kAnonymous, r.pages(), true);
    if (c.object == nullptr) return Status::kNoMem;
    c.offset = 0;
    return Status::kOk;
  }
  VmObject* parent_side = vm_object_shadow(vm, old, r.offset, r.pages());
  if (parent_side == nullptr) return Status::kNoMem;
  vm_object_reference(vm, old);
  VmObject* child_side = vm_object_shadow(vm, old, r.offset, r.pages());
  if (child_side == nullptr) {
    // Undo: parent_side goes, with the reference on `old` the region passed
    // to it; the one taken for the child becomes the region's again.
    vm_object_deallocate(vm, parent_side, batch);
    return Status::kNoMem;
  }
  {
    UseScope use(&r);
    r.object = parent_side;  // the region's reference on `old` passed to it
    r.offset = 0;
  }
  c.object = child_side;
  c.offset = 0;
  // Pages the parent maps now belong to the shared backing object. Pageout
  // (no map lock) may be clearing the same PTEs: both go under the pmap lock.
  if (r.prot & kProtWrite) {
    PteAttrs ro = pte_attrs_for(r.prot);
    ro.writable = false;
    if (vm.mutated(Mutation::kForkProtectUnlocked)) {
      write_protect_unlocked(vm, parent.pmap, r.start, r.end, ro, batch);
    } else {
      vm.platform.yield(YieldPoint::kForkProtect);
      rmap_protect_range(vm, parent.pmap, r.start, r.end, ro, batch);
    }
  }
  ++parent.generation;
  return Status::kOk;
}

}  // namespace

Status vm_map_fork(Vm& vm, AddressSpace& parent, AddressSpace& child) {
  MutexLocker lock(vm.platform, parent.lock);
  // The child is already in the process list, where truncate may look at
  // it while the fork sleeps (in a collapse): it is filled under its own
  // lock. The only place two map locks are held: a new child after its
  // parent, so no cycle.
  MutexLocker child_lock(vm.platform, child.lock);
  TlbBatch batch(vm.platform, vm.pages);
  child.brk = parent.brk;
  child.brk_start = parent.brk_start;
  for (Region* r = parent.regions.first(); r != nullptr; r = parent.regions.next(r)) {
    Region* c = vm.regions.create();
    if (c == nullptr) return Status::kNoMem;
    UseScope use(c);
    c->start = r->start;
    c->end = r->end;
    c->prot = r->prot;
    c->share = r->share;
    c->file = r->file;
    c->file_page = r->file_page;
    c->large_advice = r->large_advice;
    if (r->share == Share::kShared) {
      c->object = r->object;
      c->offset = r->offset;
      vm_object_reference(vm, r->object);
      vm_object_share(r->object);
    } else if (fork_private(vm, parent, *r, *c, batch) != Status::kOk) {
      vm.regions.destroy(c);
      return Status::kNoMem;
    }
    child.regions.insert(c);
    note_region_added(vm, child);
  }
  return Status::kOk;
}

Status vm_map_anonymous_at(Vm& vm, AddressSpace& as, vaddr_t start, u64 len, Prot prot,
                           const u8* fill) {
  MutexLocker lock(vm.platform, as.lock);
  Region* r = nullptr;
  Status s = map_anonymous(vm, as, start, len, prot, Share::kPrivate, &r);
  if (s != Status::kOk || fill == nullptr) return s;
  MutexLocker object_lock(vm.platform, r->object->lock);
  for (u64 i = 0; i < r->pages(); ++i) {
    Page* page = vm.alloc_user_page();
    if (page == nullptr) return Status::kNoMem;
    mem_set(vm.pages.data(page), *fill, kPageSize);
    vm_object_insert(vm, r->object, page, i);
  }
  return Status::kOk;
}

}  // namespace vm

namespace vm {

Page* vm_map_truncate_file(Vm& vm, AddressSpace& as, Vnode* file, u64 first_gone,
                           TruncatePhase phase, TlbBatch& batch) {
  vm.platform.assert_held(as.lock);
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r)) {
    if (r->file != file || r->file_page + r->pages() <= first_gone) continue;
    const vaddr_t from = first_gone > r->file_page
                             ? r->start + ((first_gone - r->file_page) << kPageShift)
                             : r->start;
    if (phase == TruncatePhase::kUnmap) {
      unmap_pages(vm, as, from, r->end, batch);
      // A fault that dropped the map lock (a copy in flight) must not map
      // what it found before the file shrank.
      ++as.generation;
      continue;
    }
    if (r->share == Share::kShared) continue;
    // Private copies of pages past the end go too (Linux zaps even COW pages):
    // every object of the chain above the file's own.
    u64 lo = r->index_of(from);
    u64 hi = r->index_of(r->end);
    // Each object under its own lock: all but the first may be shared with
    // another address space since a fork. The chain itself stays put under
    // the map lock (VmObject's chain rule, (h)).
    for (VmObject* o = r->object; o != nullptr && o != file->object; o = o->backing) {
      MutexLocker object_lock(vm.platform, o->lock);
      if (Page* busy = vm_object_busy_page(vm, o, lo, hi)) return busy;
      vm_object_page_remove(vm, o, lo, hi, batch);
      lo += o->backing_offset;
      hi += o->backing_offset;
    }
  }
  return nullptr;
}

}  // namespace vm
