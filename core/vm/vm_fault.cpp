// The fault path. All of one fault's state lives in a FaultState (after
// FreeBSD's struct faultstate), and each step is a small function over it:
// look up the region, simplify the chain, find the page the region shows,
// decide what to map (the page itself, a copy, or the zero page), install.
#include "vm/vm_fault.hpp"

#include "lib/mem.hpp"
#include "lib/mutex.hpp"
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

  const Region* region = nullptr;    // the region containing va
  VmObject* first_object = nullptr;  // the region's object: where copies go
  u64 first_pindex = 0;              // page index of va in first_object
  Page* page = nullptr;              // what the region shows at va (nullptr: zero)
  VmObject* owner = nullptr;         // the object holding `page`
  Page* map_page = nullptr;          // the frame to map
  PteAttrs attrs;                    // the rights to map it with
};

// Finds the region. Protection is judged before the file's end: a page past
// EOF that the mapping does not allow is a segv, one it allows a bus error.
FaultResult fault_lookup(FaultState& fs) {
  if (fs.va >= kUserTop) return FaultResult::kSegv;
  const Region* r = vm_map_lookup(fs.as, fs.va);
  if (r == nullptr || !vm_access_allowed(r->prot, fs.access)) return FaultResult::kSegv;
  if (r->file != nullptr && r->file_page_of(fs.va) >= r->file->pages()) return FaultResult::kBus;
  fs.region = r;
  fs.first_object = r->object;
  fs.first_pindex = r->index_of(fs.va);
  return FaultResult::kResolved;
}

void fault_note_chain(FaultState& fs) {
  const u64 length = vm_object_chain_length(fs.first_object);
  if (length > fs.vm.stats.max_chain) fs.vm.stats.max_chain = length;
}

// A page of the region's own object: it is private to this mapping (or the
// mapping is shared), so it gets every right the region grants.
// A page seen through the chain, or no page at all: a read maps it (or the
// zero page) read-only; a write makes the region's own copy.
FaultResult fault_choose(FaultState& fs) {
  PagerResult pager = PagerResult::kOk;
  fs.page = vm_object_get_page(fs.vm, fs.first_object, fs.first_pindex, &fs.owner, &pager,
                               &fs.first_object->lock);
  if (pager == PagerResult::kNoMem) return FaultResult::kNoMem;
  if (pager == PagerResult::kPastEof) return FaultResult::kBus;
  fs.attrs = pte_attrs_for(fs.region->prot);
  if (fs.page != nullptr && fs.owner == fs.first_object) {
    fs.map_page = fs.page;
    return FaultResult::kResolved;
  }
  // Shared memory never maps the zero page: a page created later (by a
  // write through another mapping, or poke) must be the one every mapping
  // sees, so the page is created now, as Linux does for shared memory.
  const bool shared = fs.region->share == Share::kShared;
  if (fs.access != Access::kWrite && (fs.page != nullptr || !shared)) {
    fs.attrs.writable = false;
    if (fs.page != nullptr) {
      fs.map_page = fs.page;
    } else {
      fs.map_page = fs.vm.zero_page;
      ++fs.vm.stats.zero_page_maps;
    }
    return FaultResult::kResolved;
  }
  Page* copy = fs.vm.pages.alloc();
  if (copy == nullptr) return FaultResult::kNoMem;
  if (fs.page != nullptr) {
    // The source stays busy while it is copied: it belongs to an object
    // further down the chain, whose pages other address spaces may be
    // removing (truncate) or moving (collapse) meanwhile.
    fs.page->flags |= Page::kBusy;
    fs.vm.platform.yield(YieldPoint::kCowCopy);
    mem_copy(fs.vm.pages.data(copy), fs.vm.pages.data(fs.page), kPageSize);
    fs.page->flags &= static_cast<u8>(~Page::kBusy);
    fs.vm.platform.wake(fs.page);
    ++fs.vm.stats.cow_copies;
  } else {
    mem_set(fs.vm.pages.data(copy), 0, kPageSize);
    ++fs.vm.stats.faults_zero_fill;
  }
  vm_object_insert(fs.first_object, copy, fs.first_pindex);
  fs.map_page = copy;
  return FaultResult::kResolved;
}

// Enters the translation and keeps the reverse-map counts.
FaultResult fault_install(FaultState& fs) {
  fs.vm.platform.yield(YieldPoint::kFaultPteInstall);
  Pmap& pmap = fs.as.pmap;
  const paddr_t pa = fs.vm.pages.phys(fs.map_page);
  paddr_t old_pa = 0;
  const bool was_mapped = pmap.extract(fs.va, &old_pa, nullptr);
  old_pa = page_trunc(old_pa);
  TlbBatch batch(fs.vm.platform, fs.vm.pages);
  if (fs.vm.mutated(Mutation::kCowNoShootdown))
    batch.invalidate_only_on(fs.vm.platform.current_cpu());
  if (pmap.enter(fs.va, pa, fs.attrs, batch) != Status::kOk) return FaultResult::kNoMem;
  if (!was_mapped || old_pa != pa) {
    ++fs.map_page->map_count;
    if (was_mapped) {
      Page* old = fs.vm.pages.page_of(old_pa);
      if (old != nullptr && old->map_count > 0) --old->map_count;
    }
  }
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

PteAttrs pte_attrs_for(Prot prot) {
  PteAttrs a;
  a.writable = (prot & kProtWrite) != 0;
  a.executable = (prot & kProtExec) != 0;
  return a;
}

FaultResult vm_fault(Vm& vm, AddressSpace& as, vaddr_t va, Access access) {
  FaultState fs{vm, as, page_trunc(va), access};
  ++vm.stats.faults;
  vm.platform.yield(YieldPoint::kFaultBegin);

  MutexLocker map_lock(vm.platform, as.lock);
  const FaultResult found = fault_lookup(fs);
  if (found != FaultResult::kResolved) return found;
  MutexLocker object_lock(vm.platform, fs.first_object->lock);
  {
    TlbBatch batch(vm.platform, vm.pages);
    vm_object_collapse(vm, fs.first_object, batch);
  }
  fault_note_chain(fs);
  vm.platform.yield(YieldPoint::kFaultLookupDone);

  const FaultResult r = fault_choose(fs);
  if (r != FaultResult::kResolved) return r;
  return fault_install(fs);
}

}  // namespace vm
