// poke: a write into a process's memory through the kernel (ptrace,
// /proc/PID/mem). It never goes through the process's page tables. As Linux's
// get_user_pages does, it loops: look the page up with the rights the write
// needs and write it, under the map lock and the lock of the object holding
// the page (the locks the fault takes); if it is not there, drop the locks,
// force a fault that brings it (vm_fault_forced: the fault path itself, so a
// private mapping gets its own copy whatever its protection, through the one
// copy-on-write copy of the kernel and its yield point cow.copy), and look
// again. Between the fault and the next lookup the map lock is free (yield
// point poke.retry): madvise(dontneed) may throw the copy away, so the lookup
// must keep asking for write rights every time — the mutation poke-dirty-cow
// stops asking after the first copy, which is Dirty COW (CVE-2016-5195): the
// page cache page of the file gets written. Its large-page form, the
// mutation huge-dirty-cow (Huge Dirty COW, CVE-2017-1000405: Linux's
// follow_page_pmd took a huge PMD that touch_pmd had made dirty for the copy
// the fault made), writes the frame a large entry maps at the address once
// COW was broken: between the retries the copy may be gone and the huge zero
// page mapped there again by a read, so the write lands in the block every
// untouched range shares. As built, poke writes only a page of the mapping's
// own object, and the huge zero page is never one.
#include "locker.hpp"
#include "sys/kernel.hpp"
#include "vm/mutation.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

// What the page poke writes must be. kWrite: a page of the region's own
// object, so the write stays in this mapping. kRead: any resident page the
// region shows — for a private file mapping possibly the file's own page.
enum class Intent : u8 { kRead, kWrite };

// The region poke may write at `addr`, or nullptr with the refusal in *s
// (spec §3: unmapped, a shared mapping without `w`, a file page wholly past
// EOF; and a device mapping: Linux's /proc/PID/mem and ptrace refuse VM_IO |
// VM_PFNMAP ranges, docs/semantics.md). Under the map lock.
const Region* poke_region(AddressSpace& as, vaddr_t addr, Status* s) REQUIRES(as.lock) {
  *s = Status::kFault;
  const Region* r = vm_map_lookup(as, addr);
  if (r == nullptr || r->object->kind == VmObject::Kind::kDevice) return nullptr;
  const vaddr_t va = page_trunc(addr);
  if (r->file != nullptr && r->file_page_of(va) >= r->file->pages()) return nullptr;
  if (r->share == Share::kShared && !(r->prot & kProtWrite)) return nullptr;
  *s = Status::kOk;
  return r;
}

// What poke found where it writes: the bytes are written, the page is busy
// (wait for it), or it is not resident (a forced fault must bring it).
enum class Found : u8 { kWritten, kBusy, kAbsent };

// Writes the bytes into `page` at `addr` unless the page is busy: being
// made, or read by a copy, it is not to be written until its owner is done.
// The caller holds the lock of the object that holds the page.
Found write_unless_busy(Vm& vm, Page* page, vaddr_t addr, u32 size, u64 value, Page** busy) {
  if (page_busied(vm.platform, page)) {
    *busy = page;
    return Found::kBusy;
  }
  u8* dst = vm.pages.data(page) + (addr - page_trunc(addr));
  for (u32 i = 0; i < size; ++i) dst[i] = static_cast<u8>(value >> (8 * i));
  page->dirty = true;  // no PTE's D bit records a kernel write
  return Found::kWritten;
}

// The region's own object only: its lock held, as the fault holds it.
Found write_own_page(Vm& vm, const Region& r, vaddr_t addr, u32 size, u64 value, Page** busy)
    EXCLUDES(r.object->lock) {
  MutexLocker lock(vm.platform, r.object->lock);
  Page* page = vm_object_lookup(r.object, r.index_of(addr));
  return page == nullptr ? Found::kAbsent : write_unless_busy(vm, page, addr, size, value, busy);
}

// Any page the region shows (the mutation poke-dirty-cow: for a private file
// mapping possibly the file's own page), under the locks the fault takes for
// the same walk: the region's object's, and a file's object met below it
// under its own lock (vm_object_get_page). Not analysed: the objects between
// are read under the chain rule (h), and the file's lock is taken only when
// the walk meets it below the first.
Found write_shown_page(Vm& vm, const Region& r, vaddr_t addr, u32 size, u64 value,
                       Page** busy) NO_THREAD_SAFETY_ANALYSIS {
  VmObject* first = r.object;
  MutexLocker lock(vm.platform, first->lock);
  u64 index = r.index_of(addr);
  for (VmObject* o = first; o != nullptr; index += o->backing_offset, o = o->backing) {
    const bool lock_file = o != first && o->kind == VmObject::Kind::kVnode;
    if (lock_file) vm.platform.mutex_lock(o->lock);
    Page* page = o->resident.find(index);
    const Found found =
        page == nullptr ? Found::kAbsent : write_unless_busy(vm, page, addr, size, value, busy);
    if (lock_file) vm.platform.mutex_unlock(o->lock);
    if (found != Found::kAbsent) return found;
  }
  return Found::kAbsent;
}

// Writes into the resident page `intent` allows at `addr`, under the lock of
// the object that holds it. kWrite: a page of the region's own object, so
// the write stays in this mapping; kRead: any page the region shows. Under
// the map lock, which keeps the region and its object in place.
Found poke_write(Vm& vm, AddressSpace& as, const Region& r, vaddr_t addr, Intent intent, u32 size,
                 u64 value, Page** busy) REQUIRES(as.lock) {
  vm.platform.assert_held(as.lock);
  if (r.share == Share::kShared || intent == Intent::kWrite)
    return write_own_page(vm, r, addr, size, value, busy);
  return write_shown_page(vm, r, addr, size, value, busy);
}

// The mutation huge-dirty-cow only: the frame a large entry maps at `addr`
// taken for the copy poke's forced fault made (it reads the page table, as
// Linux's GUP does and vmsim's poke otherwise never does). kAbsent when no
// large entry maps `addr`.
Found write_through_large(Vm& vm, AddressSpace& as, vaddr_t addr, u32 size, u64 value, Page** busy)
    REQUIRES(as.lock) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  paddr_t pa = 0;
  if (!as.pmap.large_at(addr) || !as.pmap.extract(addr, &pa, nullptr)) return Found::kAbsent;
  Page* page = vm.pages.page_of(pa);
  return page == nullptr ? Found::kAbsent : write_unless_busy(vm, page, addr, size, value, busy);
}

Status forced_fault_status(FaultResult r) {
  switch (r) {
    case FaultResult::kResolved:
      return Status::kOk;
    case FaultResult::kNoMem:
      return Status::kNoMem;
    case FaultResult::kSegv:
    case FaultResult::kBus:
      break;
  }
  return Status::kFault;
}

}  // namespace

Status Kernel::poke(Process* p, vaddr_t addr, u32 size, u64 value) {
  if (addr >= kUserTop) return Status::kFault;
  // The process may exec or exit while poke sleeps: the address space it
  // started on stays until poke lets go (the write then lands in memory
  // nobody sees again, as if it came first).
  AddressSpaceHold hold(vm, p->as);
  AddressSpace& as = *p->as;
  bool cow_broken = false;  // a forced write fault gave a private mapping its page
  for (;;) {
    // Correct: every lookup asks for the mapping's own page again. The
    // mutation trusts the first copy to still be there (Linux's FOLL_COW).
    const Intent intent =
        cow_broken && vm.mutated(Mutation::kPokeDirtyCow) ? Intent::kRead : Intent::kWrite;
    bool private_region = false;
    Page* busy = nullptr;
    {
      MutexLocker lock(vm.platform, as.lock);
      Status s = Status::kOk;
      const Region* r = poke_region(as, addr, &s);
      if (r == nullptr) return s;
      private_region = r->share == Share::kPrivate;
      Found found = Found::kAbsent;
      if (cow_broken && vm.mutated(Mutation::kHugeDirtyCow))
        found = write_through_large(vm, as, addr, size, value, &busy);
      if (found == Found::kAbsent) found = poke_write(vm, as, *r, addr, intent, size, value, &busy);
      if (found == Found::kWritten) return Status::kOk;
    }
    if (busy != nullptr) {
      vm.platform.wait_for(busy, "a busy page");
      continue;
    }
    const Access access = intent == Intent::kWrite ? Access::kWrite : Access::kRead;
    const Status s = forced_fault_status(vm_fault_forced(vm, as, addr, access));
    if (s != Status::kOk) return s;
    if (access == Access::kWrite && private_region) cow_broken = true;
    vm.platform.yield(YieldPoint::kPokeRetry);
  }
}

}  // namespace vm
