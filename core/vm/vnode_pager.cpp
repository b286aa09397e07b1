#include "lib/mem.hpp"
#include "lib/mutex.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {

// lock-check: vnode pager inserting under a shadow object's lock (issue 9),
// and the fault holding the map lock through page-in: `held` may be a
// shadow's lock rather than `object`'s, and is dropped and retaken here
// while the caller's map lock stays held.
PagerResult vnode_pager_getpage(Vm& vm, VmObject* object, u64 index, Page** out,
                                Mutex* held) NO_THREAD_SAFETY_ANALYSIS {
  Vnode& vn = *object->vnode;
  if (index >= vn.pages()) return PagerResult::kPastEof;
  Page* page = vm.pages.alloc();
  if (page == nullptr) return PagerResult::kNoMem;
  // Others who meet the page while the read is in flight see it busy.
  vm_object_insert(object, page, index);
  page->flags |= Page::kBusy;
  if (held != nullptr) vm.platform.mutex_unlock(*held);
  vm.platform.yield(YieldPoint::kFaultPagerIo);
  u8* data = vm.pages.data(page);
  vm.platform.disk_read(vn.disk_id, index, data);
  if (held != nullptr) vm.platform.mutex_lock(*held);
  page->flags &= static_cast<u8>(~Page::kBusy);
  vm.platform.wake(page);
  // The file may have shrunk while the read was in flight (FreeBSD re-checks
  // pindex against the object's size after every sleep).
  if (index >= vn.pages() && !vm.mutated(Mutation::kResizeNoRevalidate)) {
    TlbBatch batch(vm.platform, vm.pages);
    vm_object_page_remove(vm, object, index, index + 1, batch);
    return PagerResult::kPastEof;
  }
  const u64 eof_in_page = vn.size - (index << kPageShift);
  if (eof_in_page < kPageSize) mem_set(data + eof_in_page, 0, kPageSize - eof_in_page);
  *out = page;
  return PagerResult::kOk;
}

}  // namespace vm
