#include "lib/mem.hpp"
#include "lib/mutex.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace vm {

// Not analysed: `object`'s lock is let go of for the read either here
// (own_lock) or by the caller's unlock.drop() (then `object` is the caller's
// own first object), and the caller's locks are FaultState's data; the
// analysis cannot follow either. The simulator checks the lock is held on
// entry and again once everything is retaken.
PagerResult vnode_pager_getpage(Vm& vm, VmObject* object, u64 index, Page** out,
                                PageInUnlock& unlock, bool own_lock) NO_THREAD_SAFETY_ANALYSIS {
  vm.platform.assert_held(object->lock);
  Vnode& vn = *object->vnode;
  if (index >= vn.pages()) return PagerResult::kPastEof;
  Page* page = vm.alloc_user_page();
  if (page == nullptr) return PagerResult::kNoMem;
  // Others who meet the page while the read is in flight see it busy.
  vm_object_insert_busy(vm, object, page, index);
  if (own_lock) vm.platform.mutex_unlock(object->lock);
  unlock.drop();
  vm.platform.yield(YieldPoint::kFaultPagerIo);
  u8* data = vm.pages.data(page);
  vm.platform.disk_read(vn.disk_id, index, data);
  unlock.retake();
  if (own_lock) vm.platform.mutex_lock(object->lock);
  vm.platform.assert_held(object->lock);
  if (SwapEntry* e = object->evicted.find(index)) {  // read again after pageout
    object->evicted.remove(e);
    vm.swap_entries.destroy(e);
    vm.stats.page_ins.add(1);
  }
  page_xunbusy(vm.platform, page);
  // The file may have shrunk while the read was in flight (FreeBSD re-checks
  // pindex against the object's size after every sleep).
  if (index >= vn.pages() && !vm.mutated(Mutation::kResizeNoRevalidate)) {
    TlbBatch batch(vm.platform, vm.pages);
    vm_object_page_remove(vm, object, index, index + 1, batch);
    return PagerResult::kPastEof;
  }
  // Bytes past the end inside the last page come from the disk too: zero,
  // unless pageout wrote back what a mapping stored there (a file's size
  // change zeroes them on the disk as in the page cache).
  *out = page;
  return PagerResult::kOk;
}

}  // namespace vm
