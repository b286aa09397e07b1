// poke: a write into a process's memory through the kernel (ptrace,
// /proc/PID/mem). It never goes through the process's page tables. As Linux's
// get_user_pages does, it loops: look the page up under the map lock with the
// rights the write needs; if it is not there, drop the lock, force a fault
// that brings it (a private mapping gets its own copy whatever its
// protection), and look again. Between the fault and the next lookup the map
// lock is free (yield point poke.retry): madvise(dontneed) may throw the copy
// away, so the lookup must keep asking for write rights every time — the
// mutation poke-dirty-cow stops asking after the first copy, which is Dirty
// COW (CVE-2016-5195): the page cache page of the file gets written.
#include "lib/mem.hpp"
#include "sys/kernel.hpp"
#include "vm/mutation.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {
namespace {

// What the page poke writes must be. kWrite: a page of the region's own
// object, so the write stays in this mapping. kRead: any resident page the
// region shows — for a private file mapping possibly the file's own page.
enum class Intent : u8 { kRead, kWrite };

void drop_mapping(void* ctx, vaddr_t, paddr_t pa) {
  Page* page = static_cast<Vm*>(ctx)->pages.page_of(pa);
  if (page != nullptr) page_map_drop(page);
}

// The region poke may write at `addr`, or nullptr with the refusal in *s
// (spec §3: unmapped, a shared mapping without `w`, a file page wholly past
// EOF). Under the map lock.
const Region* poke_region(AddressSpace& as, vaddr_t addr, Status* s) REQUIRES(as.lock) {
  *s = Status::kFault;
  const Region* r = vm_map_lookup(as, addr);
  if (r == nullptr) return nullptr;
  const vaddr_t va = page_trunc(addr);
  if (r->file != nullptr && r->file_page_of(va) >= r->file->pages()) return nullptr;
  if (r->share == Share::kShared && !(r->prot & kProtWrite)) return nullptr;
  *s = Status::kOk;
  return r;
}

// The resident page `intent` allows poke to write at `va`, or nullptr when a
// fault must bring it first. Under the map lock.
// lock-check: poke's own COW path (issue 9): reads the object's pages under
// the map lock alone, without the object's lock.
Page* poke_lookup(const Region& r, vaddr_t va, Intent intent) NO_THREAD_SAFETY_ANALYSIS {
  const u64 index = r.index_of(va);
  if (r.share == Share::kShared || intent == Intent::kWrite)
    return vm_object_lookup(r.object, index);
  VmObject* owner = nullptr;
  return vm_object_lookup_chain(r.object, index, &owner);
}

Status pager_status(PagerResult pager) {
  return pager == PagerResult::kNoMem ? Status::kNoMem : Status::kFault;
}

// A busy page met on the way: poke drops its locks, waits for it, and looks
// again (the owner needs the locks to finish with it).
struct BusyPage {
  Page* page = nullptr;
};

// Gives the region's own object a page at `va`: a copy of what the region
// shows there, or zeros. A translation of the old page at `va` is removed,
// so the next access faults the new one in. Map and object locks held.
Status make_private_copy(Vm& vm, AddressSpace& as, const Region& r, vaddr_t va, BusyPage* busy)
    REQUIRES(as.lock, r.object->lock) {
  vm.platform.assert_held(as.lock);
  vm.platform.assert_held(r.object->lock);
  const u64 index = r.index_of(va);
  if (vm_object_lookup(r.object, index) != nullptr) return Status::kOk;
  VmObject* owner = nullptr;
  PagerResult pager = PagerResult::kOk;
  Page* shown = vm_object_get_page(vm, r.object, index, &owner, &pager, &r.object->lock);
  if (pager == PagerResult::kBusy) {
    busy->page = shown;
    return Status::kOk;
  }
  if (pager != PagerResult::kOk) return pager_status(pager);
  Page* copy = vm.pages.alloc();
  if (copy == nullptr) return Status::kNoMem;
  if (shown != nullptr) {
    mem_copy(vm.pages.data(copy), vm.pages.data(shown), kPageSize);
  } else {
    mem_set(vm.pages.data(copy), 0, kPageSize);
  }
  TlbBatch batch(vm.platform, vm.pages);
  as.pmap.remove(va, va + kPageSize, batch, drop_mapping, &vm);
  vm_object_insert(r.object, copy, index);
  return Status::kOk;
}

// Gives a shared region's object its page at `va`: paged in from the file,
// or a new zero page of shared anonymous memory. Map and object locks held.
Status make_shared_page(Vm& vm, const Region& r, vaddr_t va, BusyPage* busy)
    REQUIRES(r.object->lock) {
  vm.platform.assert_held(r.object->lock);
  const u64 index = r.index_of(va);
  if (vm_object_lookup(r.object, index) != nullptr) return Status::kOk;
  if (r.object->kind == VmObject::Kind::kVnode) {
    VmObject* owner = nullptr;
    PagerResult pager = PagerResult::kOk;
    Page* page = vm_object_get_page(vm, r.object, index, &owner, &pager, &r.object->lock);
    if (pager == PagerResult::kBusy) busy->page = page;
    return pager == PagerResult::kOk || pager == PagerResult::kBusy ? Status::kOk
                                                                    : pager_status(pager);
  }
  Page* page = vm.pages.alloc_zeroed();
  if (page == nullptr) return Status::kNoMem;
  vm_object_insert(r.object, page, index);
  return Status::kOk;
}

// A fault forced on the mapping whatever its protection (FOLL_FORCE), taking
// the map and object locks itself. With write intent a private region gets
// its own copy (*cow_broken is set); with read intent only the page the
// region shows is paged in — unless it shows nothing but zeros, where the
// only page to show would be the shared zero page, which poke may not write.
Status poke_fault(Vm& vm, AddressSpace& as, vaddr_t addr, Intent intent, bool* cow_broken,
                  BusyPage* busy) {
  MutexLocker map_lock(vm.platform, as.lock);
  Status s = Status::kOk;
  const Region* r = poke_region(as, addr, &s);
  if (r == nullptr) return s;
  const vaddr_t va = page_trunc(addr);
  MutexLocker object_lock(vm.platform, r->object->lock);
  if (r->share == Share::kShared) return make_shared_page(vm, *r, va, busy);
  if (intent == Intent::kRead) {
    VmObject* owner = nullptr;
    PagerResult pager = PagerResult::kOk;
    Page* shown =
        vm_object_get_page(vm, r->object, r->index_of(va), &owner, &pager, &r->object->lock);
    if (pager == PagerResult::kBusy) {
      busy->page = shown;
      return Status::kOk;
    }
    if (pager != PagerResult::kOk) return pager_status(pager);
    if (shown != nullptr) return Status::kOk;
  }
  s = make_private_copy(vm, as, *r, va, busy);
  if (s == Status::kOk && busy->page == nullptr) *cow_broken = true;
  return s;
}

}  // namespace

Status Kernel::poke(Process* p, vaddr_t addr, u32 size, u64 value) {
  if (addr >= kUserTop) return Status::kFault;
  // The process may exec or exit while poke sleeps: the address space it
  // started on stays until poke lets go (the write then lands in memory
  // nobody sees again, as if it came first).
  AddressSpaceHold hold(vm, p->as);
  AddressSpace& as = *p->as;
  const vaddr_t va = page_trunc(addr);
  bool cow_broken = false;  // a forced fault made this mapping's own copy
  for (;;) {
    // Correct: every lookup asks for the mapping's own page again. The
    // mutation trusts the first copy to still be there (Linux's FOLL_COW).
    const Intent intent =
        cow_broken && vm.mutated(Mutation::kPokeDirtyCow) ? Intent::kRead : Intent::kWrite;
    BusyPage busy;
    {
      MutexLocker lock(vm.platform, as.lock);
      Status s = Status::kOk;
      const Region* r = poke_region(as, addr, &s);
      if (r == nullptr) return s;
      Page* page = poke_lookup(*r, va, intent);
      if (page != nullptr && !(page->flags & Page::kBusy)) {
        u8* dst = vm.pages.data(page) + (addr - va);
        for (u32 i = 0; i < size; ++i) dst[i] = static_cast<u8>(value >> (8 * i));
        return Status::kOk;
      }
      busy.page = page;
    }
    if (busy.page == nullptr) {
      const Status s = poke_fault(vm, as, addr, intent, &cow_broken, &busy);
      if (s != Status::kOk) return s;
    }
    if (busy.page != nullptr) {
      vm.platform.wait_for(busy.page, "a busy page");
      continue;
    }
    vm.platform.yield(YieldPoint::kPokeRetry);
  }
}

}  // namespace vm
