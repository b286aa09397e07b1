// Files: creation, pwrite through the page cache, truncate (vm_object_resize).
#include "lib/mem.hpp"
#include "locker.hpp"
#include "sys/kernel.hpp"
#include "sys/named_list.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

// Vnode objects are indexed by file page; a mapping may reach past the end,
// so the object spans every page index a file offset can name.
constexpr u64 kVnodeObjectPages = u64{1} << 52;

// pwrite's page-in lets go of the file object's lock (it keeps io_lock).
class ObjectLockDrop final : public PageInUnlock {
 public:
  ObjectLockDrop(Platform& platform, Mutex& lock) : platform_(platform), lock_(lock) {}
  void drop() override RELEASE(lock_) { platform_.mutex_unlock(lock_); }
  void retake() override ACQUIRE(lock_) { platform_.mutex_lock(lock_); }

 private:
  Platform& platform_;
  Mutex& lock_;
};

// A file's size changes: bytes past the smaller of the two ends, inside its
// page, become zero (in the page cache and on the disk) — data a mapping
// wrote past the old end never becomes part of the file. The disk holds
// zero in every page wholly past the end (truncate frees those blocks last,
// see Kernel::truncate), so a file that grows needs no more than that.
// Both of the file's locks held (Vnode::size, (z)). `object` is f.object,
// named as the caller locked it, so the analysis can check that lock.
void set_size(Vm& vm, Vnode& f, VmObject* object, u64 size) REQUIRES(f.io_lock, object->lock) {
  if (size == f.size) return;  // no change of size, nothing is zeroed (spec §3)
  const u64 keep = size < f.size ? size : f.size;
  Page* last = vm_object_lookup(object, keep >> kPageShift);
  if (last != nullptr && (keep & kPageMask) != 0)
    mem_set(vm.pages.data(last) + (keep & kPageMask), 0, kPageSize - (keep & kPageMask));
  vm.platform.disk_zero_page_tail(f.disk_id, keep);
  if (size < f.size && vm.mutated(Mutation::kTruncateBeforeWriteback))
    vm.platform.disk_truncate(f.disk_id, size);  // before pageout's writebacks there land
  f.size = size;
}

}  // namespace

Vnode* Kernel::create_file(const char* name, u64 size, u32 disk_id) {
  const size_t len = str_length(name);
  if (len > Vnode::kMaxName || find_file(name) != nullptr) return nullptr;
  Vnode* f = vnode_slab.create();
  if (f == nullptr) return nullptr;
  VmObject* object = vm_object_allocate(vm, VmObject::Kind::kVnode, kVnodeObjectPages);
  if (object == nullptr) {
    vnode_slab.destroy(f);
    return nullptr;
  }
  {
    UseScope use_object(object);  // neither is published yet
    UseScope use(f);
    object->vnode = f;
    f->object = object;
    mem_copy(f->name, name, len + 1);
    f->size = size;
    f->disk_id = disk_id;
  }
  insert_by_name(files, f);
  return f;
}

Vnode* Kernel::find_file(const char* name) {
  return find_by_name(files, name);
}

// pwrite is atomic for every reader, mappings included: first every page
// of the range the file already has is brought in (page-in drops the lock,
// so the scan starts over after each), then, without letting go of the
// lock again, the pages past the end are made, the data written and the
// size changed. A fault in between sees the file as it was.
Status Kernel::pwrite(Vnode* f, u64 offset, u8 value, u64 len) {
  if (len == 0) return Status::kOk;
  MutexLocker io(vm.platform, f->io_lock);
  VmObject* object = f->object;
  MutexLocker lock(vm.platform, object->lock);
  const u64 end = offset + len;
  const u64 first = offset >> kPageShift;
  const u64 last = (end - 1) >> kPageShift;
  for (u64 index = first; index <= last && index < f->pages();) {
    Page* page = vm_object_lookup(object, index);
    if (page != nullptr && page_busied(vm.platform, page)) {
      vm.platform.mutex_unlock(object->lock);
      vm.platform.wait_for(page, "a busy page");
      vm.platform.mutex_lock(object->lock);
      index = first;
      continue;
    }
    if (page == nullptr) {
      ObjectLockDrop unlock(vm.platform, object->lock);
      const PagerResult r = vnode_pager_getpage(vm, object, index, &page, unlock, false);
      if (r == PagerResult::kNoMem) return Status::kNoMem;
      index = first;  // the lock was dropped: look at the range again
      continue;
    }
    ++index;
  }
  // Pages past the end: none is resident (vnode.hpp's invariant).
  for (u64 index = first; index <= last; ++index) {
    if (index < f->pages()) continue;
    Page* page = vm.alloc_user_page_zeroed();
    if (page == nullptr) {
      TlbBatch batch(vm.platform, vm.pages);
      vm_object_page_remove(vm, object, f->pages(), index, batch);
      return Status::kNoMem;
    }
    vm_object_insert(vm, object, page, index);
  }
  if (end > f->size) set_size(vm, *f, object, end);
  for (u64 index = first; index <= last; ++index) {
    Page* page = vm_object_lookup(object, index);
    const u64 page_start = index << kPageShift;
    const u64 from = offset > page_start ? offset - page_start : 0;
    const u64 to = end - page_start < kPageSize ? end - page_start : kPageSize;
    mem_set(vm.pages.data(page) + from, value, to - from);
    page->dirty = true;
  }
  return Status::kOk;
}

// vm_object_resize. The new size comes first, so that a fault from now on
// sees the new end (and one stopped in page-in re-checks it when it comes
// back). Then every mapping of the gone pages is removed, one address space
// at a time under its own map lock (never while holding the file's object
// lock: faults take the map lock first), then the page cache past the end.
// A busy page is waited for: its owner needs our locks to finish with it.
Status Kernel::truncate(Vnode* f, u64 size) {
  vm.platform.yield(YieldPoint::kResizeBegin);
  MutexLocker io(vm.platform, f->io_lock);
  u64 old_size = 0;
  {
    MutexLocker lock(vm.platform, f->object->lock);
    old_size = f->size;
    set_size(vm, *f, f->object, size);
  }
  if (size >= old_size) return Status::kOk;
  const u64 first_gone = page_round(size) >> kPageShift;
  TlbBatch batch(vm.platform, vm.pages);
  // Every mapping goes before any private copy does: a copy in an object
  // shared since a fork may be mapped by another address space.
  // Processes may come and go while truncate sleeps on a lock or a busy
  // page: the walk goes by name, and holds the address space it works on.
  char name[Process::kMaxName + 1];
  for (Process* p = process_after(nullptr); p != nullptr; p = process_after(name)) {
    mem_copy(name, p->name, sizeof(name));
    AddressSpaceHold hold(vm, p->as);
    AddressSpace& as = *p->as;
    MutexLocker lock(vm.platform, as.lock);
    vm_map_truncate_file(vm, as, f, first_gone, TruncatePhase::kUnmap, batch);
  }
  batch.flush();
  for (Process* p = process_after(nullptr); p != nullptr; p = process_after(name)) {
    mem_copy(name, p->name, sizeof(name));
    AddressSpaceHold hold(vm, p->as);
    AddressSpace& as = *p->as;
    MutexLocker lock(vm.platform, as.lock);
    while (Page* busy =
               vm_map_truncate_file(vm, as, f, first_gone, TruncatePhase::kDiscard, batch)) {
      vm.platform.mutex_unlock(as.lock);
      vm.platform.wait_for(busy, "a busy page");
      vm.platform.mutex_lock(as.lock);
    }
  }
  batch.flush();
  {
    MutexLocker lock(vm.platform, f->object->lock);
    while (Page* busy = vm_object_busy_page(vm, f->object, first_gone, kVnodeObjectPages)) {
      vm.platform.mutex_unlock(f->object->lock);
      vm.platform.wait_for(busy, "a busy page");
      vm.platform.mutex_lock(f->object->lock);
    }
    vm_object_page_remove(vm, f->object, first_gone, kVnodeObjectPages, batch);
    batch.flush();
    // The blocks past the end go last: a page pageout was writing back there
    // was busy and is done, and no new writeback can start (the pages are
    // gone). Linux's truncate likewise waits for writeback before the file
    // system frees blocks.
    if (!vm.mutated(Mutation::kTruncateBeforeWriteback))
      vm.platform.disk_truncate(f->disk_id, size);
  }
  vm.platform.yield(YieldPoint::kResizePagesRemoved);
  return Status::kOk;
}

}  // namespace vm
