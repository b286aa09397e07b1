// The fault path. All of one fault's state lives in a FaultState (after
// FreeBSD's struct faultstate), and each step is a small function over it:
// look up the region, simplify the chain, find the page the region shows,
// decide what to map (the page itself, a copy, or the zero page), install.
#include "vm/vm_fault.hpp"

#include "lib/mem.hpp"
#include "lib/mutex.hpp"
#include "vm/device.hpp"
#include "vm/pageout.hpp"
#include "vm/rmap.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_map.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {
namespace {

struct FaultState {
  Vm& vm;
  AddressSpace& as;
  const vaddr_t va;  // page-aligned faulting address
  const Access access;
  // Forced by the kernel (poke): private mappings whatever their protection.
  bool force = false;

  // What the lookup found; copied, since the region may go while the fault
  // has the map lock dropped (a page-in, a copy).
  Prot prot = kProtNone;             // the region's protection
  Share share = Share::kPrivate;     // and sharing
  VmObject* first_object = nullptr;  // the region's object: where copies go
  const Device* device = nullptr;    // the region maps a device (first_object is its object)
  u64 first_pindex = 0;              // page index of va in first_object
  Page* page = nullptr;              // what the region shows at va (nullptr: zero)
  VmObject* owner = nullptr;         // the object holding `page`
  Page* map_page = nullptr;          // the frame to map
  PteAttrs attrs;                    // the rights to map it with
  // Locks held now. Invariant: object_locked implies map_locked, and
  // first_object is the object locked.
  bool map_locked = false;
  bool object_locked = false;
  // The caller holds the map lock and the fault must not let go of it
  // (populate: mmap with MAP_POPULATE is one op to everyone else).
  bool keep_map_lock = false;
  // A page-in took a reference on first_object before dropping the locks
  // (the region may be unmapped meanwhile); dropped when the attempt ends.
  bool pagein_ref = false;
  Page* wait_for = nullptr;  // kRetry after a busy page: wait for it first
  // The region allows a large page over va's 2 MiB (fault_lookup), whose
  // first page is `large_pindex` of first_object.
  bool large_ok = false;
  u64 large_pindex = 0;
  // `page` belongs to an object below first_object and is held shared
  // (vm_object_get_page) until the attempt ends.
  bool page_held = false;
};

// kRetry: the fault let go of its locks and must start over (RetryFault in
// FreeBSD's vm_fault): a busy page was met, or the map changed meanwhile.
enum class Step : u8 { kDone, kRetry };

// Not analysed (fault_unlock, fault_lock, fault): which locks are held is
// FaultState's data (map_locked, object_locked, keep_map_lock), and kRetry
// returns with them dropped; the analysis cannot follow a lock state kept in
// data. The steps below assert the locks they need (fault_assert_locked),
// which the simulator checks and the analysis then relies on.
void fault_unlock(FaultState& fs) NO_THREAD_SAFETY_ANALYSIS {
  if (fs.object_locked) fs.vm.platform.mutex_unlock(fs.first_object->lock);
  if (fs.map_locked && !fs.keep_map_lock) fs.vm.platform.mutex_unlock(fs.as.lock);
  fs.object_locked = false;
  fs.map_locked = fs.keep_map_lock;
}

void fault_lock(FaultState& fs) NO_THREAD_SAFETY_ANALYSIS {
  if (!fs.map_locked) fs.vm.platform.mutex_lock(fs.as.lock);
  fs.map_locked = true;
  fs.vm.platform.mutex_lock(fs.first_object->lock);
  fs.object_locked = true;
}

// The contract of the steps from fault_choose on: the map lock and the
// first object's lock are held.
void fault_assert_locked(FaultState& fs) ASSERT_CAPABILITY(fs.as.lock, fs.first_object->lock) {
  fs.vm.platform.assert_held(fs.as.lock);
  fs.vm.platform.assert_held(fs.first_object->lock);
}

// Finds the region. Protection is judged before the file's end: a page past
// EOF that the mapping does not allow is a segv, one it allows a bus error.
FaultResult fault_lookup(FaultState& fs) {
  fs.vm.platform.assert_held(fs.as.lock);
  if (fs.va >= kUserTop) return FaultResult::kSegv;
  const Region* r = vm_map_lookup(fs.as, fs.va);
  if (r == nullptr) return FaultResult::kSegv;
  const bool forced_private = fs.force && r->share == Share::kPrivate;
  if (!forced_private && !vm_access_allowed(r->prot, fs.access)) return FaultResult::kSegv;
  if (r->file != nullptr && r->file_page_of(fs.va) >= r->file->pages()) return FaultResult::kBus;
  fs.prot = r->prot;
  fs.share = r->share;
  fs.first_object = r->object;
  fs.first_pindex = r->index_of(fs.va);
  if (r->object->kind == VmObject::Kind::kDevice) fs.device = r->object->device;
  fs.large_ok = !fs.force && large_page_allowed(fs.vm, *r, fs.va);
  fs.large_pindex = r->index_of(large_trunc(fs.va));
  return FaultResult::kResolved;
}

// A read (or execute) fault of an eligible, untouched 2 MiB range maps the
// huge zero page read-only with one page-directory entry (Linux's
// do_huge_pmd_anonymous_page with the huge zero folio): nothing becomes the
// object's, so the range stays empty there. A write fault there later finds
// the slot taken and goes the small-page way, whose install splits the entry
// (Linux since 5.8: do_huge_pmd_wp_page falls back and splits a huge zero
// PMD); so does poke's forced write, which never writes the block. No block
// to be had: a fallback to the small zero page.
bool fault_map_huge_zero(FaultState& fs, vaddr_t base) {
  fault_assert_locked(fs);
  Vm& vm = fs.vm;
  Page* zero = vm.huge_zero_block();
  if (zero == nullptr) {
    vm.stats.large_page_fallbacks.add(1);
    return false;
  }
  vm.platform.yield(YieldPoint::kFaultPteInstall);
  PteAttrs attrs = pte_attrs_for(fs.prot);
  attrs.writable = false;
  const Status s = rmap_enter_large(vm, fs.as.pmap, base, zero, attrs, nullptr);
  if (s != Status::kOk) {
    if (s == Status::kNoMem) vm.stats.large_page_fallbacks.add(1);
    return false;
  }
  vm.stats.large_pages_mapped.add(1);
  return true;
}

// The large page of spec §9, at a first fault (Linux's do_huge_pmd_anonymous_page):
// when the region's own object has nothing at all in the 2 MiB (no page, no
// swap, no backing object whose pages could show through) and nothing is
// mapped there, a write makes a 2 MiB block the object's 512 pages,
// zero-filled, mapped by one page-directory entry; a read maps the huge zero
// page. Any of that not holding: the small-page path, silently; only a
// missing block (or its pv entries) counts as a fallback. True when the
// fault is resolved by it.
bool fault_try_large(FaultState& fs) {
  fault_assert_locked(fs);
  if (!fs.large_ok) return false;
  Vm& vm = fs.vm;
  const u64 first = fs.large_pindex;
  const u64 last = first + kLargePagePages;
  const vaddr_t base = large_trunc(fs.va);
  if (fs.first_object->kind != VmObject::Kind::kAnonymous || fs.first_object->backing != nullptr ||
      last > fs.first_object->size_pages)
    return false;
  const Page* resident = fs.first_object->resident.lower_bound(first);
  if (resident != nullptr && resident->index < last) return false;
  const SwapEntry* swapped = fs.first_object->swap.lower_bound(first);
  if (swapped != nullptr && swapped->index < last) return false;
  if (!fs.as.pmap.large_slot_empty(base)) return false;
  if (fs.access != Access::kWrite) return fault_map_huge_zero(fs, base);
  Page* head = vm.alloc_user_block();
  PvEntry* chain = head != nullptr ? rmap_prepare_chain(vm, kLargePagePages) : nullptr;
  if (chain == nullptr) {
    for (u64 i = 0; head != nullptr && i < kLargePagePages; ++i) vm.pages.free(head + i);
    vm.stats.large_page_fallbacks.add(1);
    return false;
  }
  for (u64 i = 0; i < kLargePagePages; ++i)
    vm_object_insert(vm, fs.first_object, head + i, first + i);
  vm.platform.yield(YieldPoint::kFaultPteInstall);
  const Status s = rmap_enter_large(vm, fs.as.pmap, base, head, pte_attrs_for(fs.prot), chain);
  if (s != Status::kOk) {
    TlbBatch batch(vm.platform, vm.pages);
    vm_object_page_remove(vm, fs.first_object, first, last, batch);
    if (s == Status::kNoMem) vm.stats.large_page_fallbacks.add(1);
    return false;
  }
  vm.stats.large_pages_mapped.add(1);
  return true;
}

void fault_note_chain(FaultState& fs) {
  const u64 length = vm_object_chain_length(fs.first_object);
  fs.vm.stats.max_chain.raise_to(length);
}

// A page-in lets go of the fault's locks for the disk read (FreeBSD's
// vm_fault unlocks the map before calling the pager): the map may change
// meanwhile — the region unmapped, re-protected, its object replaced — so
// a reference keeps first_object alive and the map generation says, once
// the locks are back, whether what the lookup found still holds.
class FaultPageIn final : public PageInUnlock {
 public:
  explicit FaultPageIn(FaultState& fs) : fs_(fs) {}

  void drop() override {
    fs_.vm.platform.assert_held(fs_.as.lock);
    vm_object_reference(fs_.vm, fs_.first_object);
    fs_.pagein_ref = true;
    generation_ = fs_.as.generation;
    fault_unlock(fs_);
  }
  void retake() override { fault_lock(fs_); }

  // True when the locks were dropped and the map changed meanwhile; the
  // caller has them back and passes the map's generation now.
  bool map_changed(u64 generation_now) const {
    return fs_.pagein_ref && generation_now != generation_;
  }

 private:
  FaultState& fs_;
  u64 generation_ = 0;
};

// The copy-on-write copy, made with both locks dropped as a real kernel
// does for a copy that may sleep: the copy waits in first_object busy
// (exclusive: whoever faults there meanwhile waits for it), the source is
// busy shared (truncate waits for it, collapse leaves its object alone,
// another address space may copy it at the same time). A reference keeps
// first_object alive. Back under the locks, a map that changed meanwhile
// means the copy may be for a region that is gone: it is thrown away and the
// fault starts over.
Step fault_copy_unlocked(FaultState& fs, Page* copy, FaultResult* result) {
  fault_assert_locked(fs);
  Vm& vm = fs.vm;
  // The source sits in a backing object whose lock is not held: another
  // address space may be paging it in or copying it right now, on another
  // CPU. Taking the busy lock is the test and the set in one step.
  if (!page_try_sbusy(vm.platform, fs.page)) {
    vm.pages.free(copy);
    fs.wait_for = fs.page;
    fault_unlock(fs);
    return Step::kRetry;
  }
  vm_object_insert_busy(vm, fs.first_object, copy, fs.first_pindex);
  vm_object_reference(vm, fs.first_object);
  const u64 generation = fs.as.generation;
  fault_unlock(fs);
  vm.platform.yield(YieldPoint::kCowCopy);
  mem_copy(vm.pages.data(copy), vm.pages.data(fs.page), kPageSize);
  fault_lock(fs);
  page_sunbusy(vm.platform, fs.page);
  page_xunbusy(vm.platform, copy);
  vm.stats.cow_copies.add(1);
  TlbBatch batch(vm.platform, vm.pages);
  if (fs.as.generation != generation) {
    vm_object_page_remove(vm, fs.first_object, fs.first_pindex, fs.first_pindex + 1, batch);
    // Unlocked before our reference goes: it may be the last one.
    VmObject* object = fs.first_object;
    fault_unlock(fs);
    vm_object_deallocate(vm, object, batch);
    return Step::kRetry;
  }
  vm_object_deallocate(vm, fs.first_object, batch);  // the region still holds it
  fs.map_page = copy;
  *result = FaultResult::kResolved;
  return Step::kDone;
}

// The copy under MAP_POPULATE: the map lock is kept, so nothing can change
// the map meanwhile; the source is busy (shared) only for others walking
// the chain (another address space).
Step fault_copy_map_locked(FaultState& fs, Page* copy) {
  fault_assert_locked(fs);
  Vm& vm = fs.vm;
  if (!page_try_sbusy(vm.platform, fs.page)) {
    vm.pages.free(copy);
    fs.wait_for = fs.page;
    fault_unlock(fs);
    return Step::kRetry;
  }
  vm.platform.yield(YieldPoint::kCowCopy);
  mem_copy(vm.pages.data(copy), vm.pages.data(fs.page), kPageSize);
  page_sunbusy(vm.platform, fs.page);
  vm.stats.cow_copies.add(1);
  vm_object_insert(vm, fs.first_object, copy, fs.first_pindex);
  fs.map_page = copy;
  return Step::kDone;
}

// A page of the region's own object: it is private to this mapping (or the
// mapping is shared), so it gets every right the region grants.
// A page seen through the chain, or no page at all: a read maps it (or the
// zero page) read-only; a write makes the region's own copy.
Step fault_choose(FaultState& fs, FaultResult* result) {
  fault_assert_locked(fs);
  PagerResult pager = PagerResult::kOk;
  FaultPageIn pagein(fs);
  fs.page = vm_object_get_page(fs.vm, fs.first_object, fs.first_pindex, &fs.owner, &pager, pagein);
  fs.page_held = pager == PagerResult::kOk && fs.page != nullptr && fs.owner != fs.first_object;
  // After a page-in, what the lookup found must still be the map's
  // (populate keeps the map lock: nothing can have changed).
  if (pagein.map_changed(fs.as.generation) && !fs.vm.mutated(Mutation::kPageinNoRevalidate)) {
    fault_unlock(fs);
    return Step::kRetry;
  }
  if (pager == PagerResult::kBusy) {
    fs.wait_for = fs.page;
    fault_unlock(fs);
    return Step::kRetry;
  }
  *result = pager == PagerResult::kNoMem     ? FaultResult::kNoMem
            : pager == PagerResult::kPastEof ? FaultResult::kBus
                                             : FaultResult::kResolved;
  if (*result != FaultResult::kResolved) return Step::kDone;
  fs.attrs = pte_attrs_for(fs.prot);
  if (fs.page != nullptr && fs.owner == fs.first_object) {
    fs.map_page = fs.page;
    return Step::kDone;
  }
  // Shared memory never maps the zero page: a page created later (by a
  // write through another mapping, or poke) must be the one every mapping
  // sees, so the page is created now, as Linux does for shared memory. A
  // forced read of nothing creates the mapping's own page too: the kernel
  // is about to write it.
  const bool create = fs.share == Share::kShared || fs.force;
  if (fs.access != Access::kWrite && (fs.page != nullptr || !create)) {
    fs.attrs.writable = false;
    if (fs.page != nullptr) {
      fs.map_page = fs.page;
    } else {
      fs.map_page = fs.vm.zero_page;
      fs.vm.stats.zero_page_maps.add(1);
    }
    return Step::kDone;
  }
  // A copy is overwritten whole; a zero fill takes a cleared frame.
  Page* copy = fs.page != nullptr ? fs.vm.alloc_user_page() : fs.vm.alloc_user_page_zeroed();
  if (copy == nullptr) {
    *result = FaultResult::kNoMem;
    return Step::kDone;
  }
  if (fs.page != nullptr && !fs.keep_map_lock) return fault_copy_unlocked(fs, copy, result);
  if (fs.page != nullptr) return fault_copy_map_locked(fs, copy);
  fs.vm.stats.faults_zero_fill.add(1);
  vm_object_insert(fs.vm, fs.first_object, copy, fs.first_pindex);
  fs.map_page = copy;
  return Step::kDone;
}

// Enters the translation and its reverse-map entry.
FaultResult fault_install(FaultState& fs) {
  fault_assert_locked(fs);
  fs.vm.platform.yield(YieldPoint::kFaultPteInstall);
  // A forced fault on a PROT_NONE mapping: the page is the mapping's, but
  // nothing may translate to it (x86 reads any present page).
  if (fs.prot == kProtNone) return FaultResult::kResolved;
  PvEntry* pv = rmap_prepare(fs.vm);
  if (pv == nullptr) return FaultResult::kNoMem;
  TlbBatch batch(fs.vm.platform, fs.vm.pages);
  if (fs.vm.mutated(Mutation::kCowNoShootdown))
    batch.invalidate_only_on(fs.vm.platform.current_cpu());
  if (rmap_enter(fs.vm, fs.as.pmap, fs.va, fs.map_page, fs.attrs, batch, pv) != Status::kOk)
    return FaultResult::kNoMem;
  return FaultResult::kResolved;
}

// A device page (vm/device.hpp): its frame is fixed, so there is nothing to
// look up, page in or copy (device mappings are shared, never private); the
// frame goes straight into the page table with every right the region
// grants, as an unmanaged PTE. Under the map lock alone: a device object
// never changes. The kernel does not fault device memory in on a process's
// behalf (Linux's VM_IO: get_user_pages refuses it), so a forced fault is
// refused.
FaultResult fault_device(FaultState& fs) {
  fs.vm.platform.assert_held(fs.as.lock);
  if (fs.force) return FaultResult::kSegv;
  fs.vm.platform.yield(YieldPoint::kFaultPteInstall);
  if (fs.prot == kProtNone) return FaultResult::kSegv;
  TlbBatch batch(fs.vm.platform, fs.vm.pages);
  const paddr_t pa = fs.device->page_pa(fs.first_pindex);
  if (rmap_enter_unmanaged(fs.vm, fs.as.pmap, fs.va, pa, pte_attrs_for(fs.prot), batch) !=
      Status::kOk)
    return FaultResult::kNoMem;
  return FaultResult::kResolved;
}

}  // namespace

bool vm_access_allowed(Prot prot, Access access) {
  switch (access) {
    case Access::kRead:
      return prot != kProtNone;
    case Access::kWrite:
      return (prot & kProtWrite) != 0;
    case Access::kExec:
      return (prot & kProtExec) != 0;
  }
  return false;
}

bool large_page_allowed(const Vm& vm, const Region& r, vaddr_t va) {
  const bool advised =
      vm.large_pages == LargePages::kAlways
          ? r.large_advice != LargeAdvice::kNoHuge
          : vm.large_pages == LargePages::kMadvise && r.large_advice == LargeAdvice::kHuge;
  const vaddr_t base = large_trunc(va);
  return advised && r.file == nullptr && r.share == Share::kPrivate && r.prot != kProtNone &&
         base >= r.start && base + kLargePageSize <= r.end;
}

PteAttrs pte_attrs_for(Prot prot) {
  PteAttrs a;
  a.writable = (prot & kProtWrite) != 0;
  a.executable = (prot & kProtExec) != 0;
  return a;
}

namespace {

// One attempt: look up, lock, simplify the chain, choose, install. Returns
// with the locks the attempt took still held (fault_unlock lets go). Not
// analysed, like fault_lock: the locks it leaves held are recorded in
// FaultState (map_locked, object_locked), which the analysis cannot follow.
Step fault_attempt(FaultState& fs, FaultResult* r) NO_THREAD_SAFETY_ANALYSIS {
  Vm& vm = fs.vm;
  if (!fs.keep_map_lock) vm.platform.mutex_lock(fs.as.lock);
  fs.map_locked = true;
  *r = fault_lookup(fs);
  if (*r != FaultResult::kResolved) return Step::kDone;
  if (fs.device != nullptr) {
    *r = fault_device(fs);
    return Step::kDone;
  }
  vm.platform.mutex_lock(fs.first_object->lock);
  fs.object_locked = true;
  {
    TlbBatch batch(vm.platform, vm.pages);
    vm_object_collapse(vm, fs.first_object, batch);
  }
  fault_note_chain(fs);
  vm.platform.yield(YieldPoint::kFaultLookupDone);
  if (fault_try_large(fs)) return Step::kDone;
  if (fault_choose(fs, r) == Step::kRetry) return Step::kRetry;
  if (*r == FaultResult::kResolved) *r = fault_install(fs);
  return Step::kDone;
}

FaultResult fault(Vm& vm, AddressSpace& as, vaddr_t va, Access access, bool keep_map_lock,
                  bool force) {
  if (!force) vm.stats.faults.add(1);
  vm.platform.yield(YieldPoint::kFaultBegin);
  for (;;) {
    FaultState fs{vm, as, page_trunc(va), access};
    fs.keep_map_lock = keep_map_lock;
    fs.force = force;
    FaultResult r = FaultResult::kResolved;
    const Step step = fault_attempt(fs, &r);
    fault_unlock(fs);
    if (fs.page_held) page_sunbusy(vm.platform, fs.page);
    if (fs.pagein_ref) {
      TlbBatch batch(vm.platform, vm.pages);
      vm_object_deallocate(vm, fs.first_object, batch);
    }
    // No frame (or no pv entry, or no page table): reclaim with every
    // object lock let go of, then try again (FreeBSD's vm_waitpfault).
    if (step == Step::kDone && r == FaultResult::kNoMem && vm_reclaim(vm)) continue;
    if (step == Step::kDone) return r;
    if (fs.wait_for != nullptr) vm.platform.wait_for(fs.wait_for, "a busy page");
  }
}

}  // namespace

FaultResult vm_fault(Vm& vm, AddressSpace& as, vaddr_t va, Access access) {
  return fault(vm, as, va, access, false, false);
}

FaultResult vm_fault_map_locked(Vm& vm, AddressSpace& as, vaddr_t va, Access access) {
  return fault(vm, as, va, access, true, false);
}

FaultResult vm_fault_forced(Vm& vm, AddressSpace& as, vaddr_t va, Access access) {
  return fault(vm, as, va, access, false, true);
}

}  // namespace vm
