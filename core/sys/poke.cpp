// poke: a write into a process's memory through the kernel (ptrace,
// /proc/PID/mem). It never goes through the process's page tables: it finds
// the page the mapping shows, makes it the mapping's own first if the mapping
// is private, and writes the frame.
#include "lib/mem.hpp"
#include "sys/kernel.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {
namespace {

void drop_mapping(void* ctx, vaddr_t, paddr_t pa) {
  Page* page = static_cast<Vm*>(ctx)->pages.page_of(pa);
  if (page != nullptr && page->map_count > 0) --page->map_count;
}

// The page of the region's own object at `index`, copied from what the
// region shows there if it has none yet. A translation of the old page at
// `va` is removed, so the next access faults the new one in.
Page* private_page(Vm& vm, AddressSpace& as, const Region& r, vaddr_t va) {
  const u64 index = r.index_of(va);
  if (Page* own = vm_object_lookup(r.object, index)) return own;
  VmObject* owner = nullptr;
  PagerResult pager = PagerResult::kOk;
  Page* shown = vm_object_get_page(vm, r.object, index, &owner, &pager, nullptr);
  if (pager != PagerResult::kOk) return nullptr;
  Page* copy = vm.pages.alloc();
  if (copy == nullptr) return nullptr;
  if (shown != nullptr) {
    mem_copy(vm.pages.data(copy), vm.pages.data(shown), kPageSize);
  } else {
    mem_set(vm.pages.data(copy), 0, kPageSize);
  }
  TlbBatch batch(vm.platform, vm.pages);
  as.pmap.remove(va, va + kPageSize, batch, drop_mapping, &vm);
  vm_object_insert(r.object, copy, index);
  return copy;
}

Page* shared_page(Vm& vm, const Region& r, vaddr_t va) {
  const u64 index = r.index_of(va);
  if (Page* own = vm_object_lookup(r.object, index)) return own;
  if (r.object->kind == VmObject::Kind::kVnode) {
    VmObject* owner = nullptr;
    PagerResult pager = PagerResult::kOk;
    return vm_object_get_page(vm, r.object, index, &owner, &pager, nullptr);
  }
  Page* page = vm.pages.alloc_zeroed();
  if (page != nullptr) vm_object_insert(r.object, page, index);
  return page;
}

}  // namespace

Status Kernel::poke(Process* p, vaddr_t addr, u32 size, u64 value) {
  if (addr >= kUserTop) return Status::kFault;
  AddressSpace& as = *p->as;
  MutexLocker lock(vm.platform, as.lock);
  const Region* r = vm_map_lookup(as, addr);
  if (r == nullptr) return Status::kFault;
  const vaddr_t va = page_trunc(addr);
  if (r->file != nullptr && r->file_page_of(va) >= r->file->pages()) return Status::kFault;
  Page* page = nullptr;
  if (r->share == Share::kShared) {
    if (!(r->prot & kProtWrite)) return Status::kFault;
    page = shared_page(vm, *r, va);
  } else {
    page = private_page(vm, as, *r, va);
  }
  if (page == nullptr) return Status::kNoMem;
  u8* dst = vm.pages.data(page) + (addr - va);
  for (u32 i = 0; i < size; ++i) dst[i] = static_cast<u8>(value >> (8 * i));
  return Status::kOk;
}

}  // namespace vm
