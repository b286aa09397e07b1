// poke: a write into a process's memory through the kernel (ptrace,
// /proc/PID/mem). It never goes through the process's page tables. As Linux's
// get_user_pages does, it loops: look the page up under the map lock with the
// rights the write needs; if it is not there, drop the lock, force a fault
// that brings it (vm_fault_forced: the fault path itself, so a private
// mapping gets its own copy whatever its protection, through the one
// copy-on-write copy of the kernel and its yield point cow.copy), and look
// again. Between the fault and the next lookup the map lock is free (yield
// point poke.retry): madvise(dontneed) may throw the copy away, so the lookup
// must keep asking for write rights every time — the mutation poke-dirty-cow
// stops asking after the first copy, which is Dirty COW (CVE-2016-5195): the
// page cache page of the file gets written.
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
// EOF). Under the map lock.
const Region* poke_region(AddressSpace& as, vaddr_t addr, Status* s) {
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
Page* poke_lookup(const Region& r, vaddr_t va, Intent intent) {
  const u64 index = r.index_of(va);
  if (r.share == Share::kShared || intent == Intent::kWrite)
    return vm_object_lookup(r.object, index);
  VmObject* owner = nullptr;
  return vm_object_lookup_chain(r.object, index, &owner);
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
  const vaddr_t va = page_trunc(addr);
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
      Page* page = poke_lookup(*r, va, intent);
      if (page != nullptr && !page_busied(page)) {
        u8* dst = vm.pages.data(page) + (addr - va);
        for (u32 i = 0; i < size; ++i) dst[i] = static_cast<u8>(value >> (8 * i));
        page->dirty = true;  // no PTE's D bit records a kernel write
        return Status::kOk;
      }
      busy = page;
    }
    // Being made, or read by a copy: not to be written until its owner is done.
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
