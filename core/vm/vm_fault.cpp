// The fault path. All of one fault's state lives in a FaultState (after
// FreeBSD's struct faultstate), and each step is a small function over it.
#include "vm/vm_fault.hpp"

#include "lib/mutex.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_map.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

struct FaultState {
  Vm& vm;
  AddressSpace& as;
  const vaddr_t va;  // page-aligned faulting address
  const Access access;

  const Region* region = nullptr;  // the region containing va
  VmObject* object = nullptr;      // the object that region maps
  u64 pindex = 0;                  // page index of va in object
  Page* page = nullptr;            // the page to map
};

// Finds the region and object for the fault; false means the access is not
// allowed at all.
bool fault_lookup(FaultState& fs) {
  if (fs.va >= kUserTop) return false;
  const Region* r = vm_map_lookup(fs.as, fs.va);
  if (r == nullptr || !vm_access_allowed(r->prot, fs.access)) return false;
  fs.region = r;
  fs.object = r->object;
  fs.pindex = r->index_of(fs.va);
  return true;
}

// Finds the resident page or creates it zero-filled.
FaultResult fault_get_page(FaultState& fs) {
  fs.page = vm_object_lookup(fs.object, fs.pindex);
  if (fs.page != nullptr) return FaultResult::kResolved;
  Page* page = fs.vm.pages.alloc_zeroed();
  if (page == nullptr) return FaultResult::kNoMem;
  vm_object_insert(fs.object, page, fs.pindex);
  ++fs.vm.stats.faults_zero_fill;
  fs.page = page;
  return FaultResult::kResolved;
}

// Enters the translation with every right the region grants.
FaultResult fault_install(FaultState& fs) {
  Pmap& pmap = fs.as.pmap;
  const paddr_t pa = fs.vm.pages.phys(fs.page);
  paddr_t old_pa = 0;
  const bool was_mapped = pmap.extract(fs.va, &old_pa, nullptr);
  TlbBatch batch(fs.vm.platform, fs.vm.pages);
  if (pmap.enter(fs.va, pa, pte_attrs_for(fs.region->prot), batch) != Status::kOk)
    return FaultResult::kNoMem;
  // The reverse-map count changes only when the PTE now names another frame.
  if (!was_mapped || old_pa != pa) {
    ++fs.page->map_count;
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
  if (!fault_lookup(fs)) return FaultResult::kSegv;
  MutexLocker object_lock(vm.platform, fs.object->lock);
  vm.platform.yield(YieldPoint::kFaultLookupDone);

  FaultResult r = fault_get_page(fs);
  if (r != FaultResult::kResolved) return r;
  vm.platform.yield(YieldPoint::kFaultPteInstall);
  return fault_install(fs);
}

}  // namespace vm
