#include "vm/vm_object.hpp"

#include "lib/format.hpp"
#include "locker.hpp"
#include "vm/pageout.hpp"
#include "vm/swap_pager.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"
#include "vm/vnode.hpp"

namespace vm {
namespace {

[[noreturn]] void panic_mapped(Vm& vm, const char* where, VmObject* object, Page* page) {
  FixedString<160> f;
  f << where << ": page " << page->index << " of object " << static_cast<const void*>(object)
    << " still has " << page->map_count.load() << " mappings";
  vm.platform.panic(f.c_str());
  __builtin_unreachable();  // GCC does not carry [[noreturn]] through the virtual call here
}

void free_object(Vm& vm, VmObject* object) {
  {
    LeafLocker guard(vm.platform, vm.all_objects_lock);
    vm.all_objects.remove(object);
  }
  vm.objects.destroy(object);
}

// The last reference is gone, but a page may still be busy: its owner comes
// back to it (and to the object's lock) when it wakes. Waits until none is.
// Not analysed: see vm_object_deallocate (the object is unreachable).
void wait_until_unbusy(Vm& vm, VmObject* object) NO_THREAD_SAFETY_ANALYSIS {
  while (Page* busy = vm_object_busy_page(vm, object, 0, object->size_pages))
    vm.platform.wait_for(busy, "a busy page of an object losing its last reference");
}

// The work of vm_object_page_remove, for a caller that holds `object`'s
// lock or (vm_object_deallocate) is the only one left that can reach it.
void remove_pages(Vm& vm, VmObject* object, u64 start, u64 end,
                  TlbBatch& batch) NO_THREAD_SAFETY_ANALYSIS {
  Page* page = object->resident.lower_bound(start);
  while (page != nullptr && page->index < end) {
    Page* next = object->resident.next(page);
    if (page_map_count(vm.platform, page) != 0)
      panic_mapped(vm, "vm_object_page_remove", object, page);
    // A busy page is its owner's: it finds the change when it relocks and
    // removes the page itself (callers that must see it gone wait first).
    if (page_busied(vm.platform, page)) {
      page->discard = true;
      page = next;
      continue;
    }
    object->resident.remove(page);
    vm.stats.resident_user_removed();
    page_dequeue(vm, page);
    page->object = nullptr;
    batch.defer_free(page);
    page = next;
  }
  swap_pager_free_range(vm, object, start, end);
  swap_pager_forget_evicted(vm, object, start, end);
}

}  // namespace

VmObject* vm_object_allocate(Vm& vm, VmObject::Kind kind, u64 size_pages, bool one_mapping) {
  VmObject* object = vm.objects.create(kind, size_pages);
  if (object == nullptr) return nullptr;
  {
    UseScope use(object);  // not published yet: no lock to hold
    object->one_mapping = one_mapping;
  }
  LeafLocker guard(vm.platform, vm.all_objects_lock);
  vm.all_objects.push_back(object);
  return object;
}

void vm_object_share(VmObject* object) {
  UseScope use(object);
  object->one_mapping = false;
}

// The counts of an object have no lock (they change atomically), so each
// change or read is reported under the object's lock's name
// (Platform::touched): whoever takes that lock depends on it.
void vm_object_reference(Vm& vm, VmObject* object) {
  vm.platform.touched(&object->lock);
  object->ref_count.add(1);
}

// Drops one reference; the references left.
static u32 vm_object_unreference(Vm& vm, VmObject* object) {
  vm.platform.touched(&object->lock);
  return object->ref_count.sub(1);
}

// Iterative down the chain: a long chain must not become deep recursion.
// The counts change atomically: a backing object shared by two address
// spaces loses a reference in one while a fault in the other reads its
// counts to decide a collapse (vm_object_collapse), on another CPU.
// The last reference is gone, so no thread can reach the object any more
// but pageout, through its queue, and the holder of one of its busy pages:
// the pages leave under the object's lock, which pageout needs too. Not
// analysed: `object` changes down the chain.
void vm_object_deallocate(Vm& vm, VmObject* object, TlbBatch& batch) NO_THREAD_SAFETY_ANALYSIS {
  while (object != nullptr && vm_object_unreference(vm, object) == 0) {
    wait_until_unbusy(vm, object);
    {
      MutexLocker lock(vm.platform, object->lock);
      while (Page* busy = vm_object_busy_page(vm, object, 0, object->size_pages)) {
        vm.platform.mutex_unlock(object->lock);
        vm.platform.wait_for(busy, "a busy page of an object losing its last reference");
        vm.platform.mutex_lock(object->lock);
      }
      vm_object_page_remove(vm, object, 0, object->size_pages, batch);
    }
    VmObject* backing = object->backing;
    if (backing != nullptr) {
      vm.platform.touched(&backing->lock);
      backing->shadow_count.sub(1);
    }
    free_object(vm, object);
    object = backing;
  }
}

VmObject* vm_object_shadow(Vm& vm, VmObject* backing, u64 offset, u64 size_pages) {
  VmObject* shadow = vm_object_allocate(vm, VmObject::Kind::kAnonymous, size_pages, true);
  if (shadow == nullptr) return nullptr;
  {
    UseScope use(shadow);  // not published yet
    shadow->backing = backing;
    shadow->backing_offset = offset;
  }
  vm.platform.touched(&backing->lock);
  backing->shadow_count.add(1);
  vm_object_share(backing);
  return shadow;
}

u32 vm_object_chain_length(const VmObject* object) {
  u32 n = 0;
  for (; object != nullptr; object = object->backing) ++n;
  return n;
}

Page* vm_object_lookup(VmObject* object, u64 index) {
  return object->resident.find(index);
}

// Not analysed: reads the backing objects' pages under the chain rule (h):
// the lock held is `object`'s, which the compiler cannot tie to them.
Page* vm_object_lookup_chain(VmObject* object, u64 index,
                             VmObject** owner) NO_THREAD_SAFETY_ANALYSIS {
  for (VmObject* o = object; o != nullptr; index += o->backing_offset, o = o->backing) {
    Page* p = o->resident.find(index);
    if (p != nullptr || swap_pager_has(o, index)) {
      *owner = o;
      return p;
    }
  }
  *owner = nullptr;
  return nullptr;
}

// Not analysed: reads the backing objects' pages under the chain rule (h),
// and takes a file object's own lock only when it is met below `object`
// (lock_file), a lock state the analysis cannot follow.
Page* vm_object_get_page(Vm& vm, VmObject* object, u64 index, VmObject** owner, PagerResult* result,
                         PageInUnlock& unlock) NO_THREAD_SAFETY_ANALYSIS {
  vm.platform.assert_held(object->lock);
  *result = PagerResult::kOk;
  for (VmObject* o = object; o != nullptr; index += o->backing_offset, o = o->backing) {
    // An object below the caller's is looked up and paged into under its
    // own lock (taken top down, as the chain's order is): another address
    // space's fault, a pwrite or pageout may be changing the same index, and
    // the lookup and the page-in must be one step for them.
    const bool own_lock = o != object;
    if (own_lock) vm.platform.mutex_lock(o->lock);
    Page* p = o->resident.find(index);
    if (p != nullptr && page_xbusied(vm.platform, p)) {
      if (own_lock) vm.platform.mutex_unlock(o->lock);
      *owner = o;
      *result = PagerResult::kBusy;
      return p;
    }
    if (p == nullptr && swap_pager_has(o, index)) {
      *result = swap_pager_getpage(vm, o, index, &p, unlock, own_lock);
    } else if (p == nullptr && o->kind == VmObject::Kind::kVnode) {
      *result = vnode_pager_getpage(vm, o, index, &p, unlock, own_lock);
    }
    // A page of another object is held shared until the caller has mapped
    // or copied it: with that object's lock let go of, pageout would
    // otherwise be free to take it meanwhile.
    if (*result == PagerResult::kOk && p != nullptr && own_lock &&
        !page_try_sbusy(vm.platform, p)) {
      *result = PagerResult::kBusy;
    }
    if (own_lock) vm.platform.mutex_unlock(o->lock);
    if (*result == PagerResult::kBusy) {
      *owner = o;
      return p;
    }
    if (*result != PagerResult::kOk) break;
    if (p != nullptr) {
      *owner = o;
      return p;
    }
  }
  *owner = nullptr;
  return nullptr;
}

void vm_object_insert(Vm& vm, VmObject* object, Page* page, u64 index) {
  page->state = Page::State::kObject;
  page->object = object;
  page->index = index;
  page->map_count.store(0);
  page->busy.store(0);
  page->pv = nullptr;
  page->invl_gen = 0;
  page->dirty = object->kind == VmObject::Kind::kAnonymous;
  page->discard = false;
  page->credit = 0;
  if (!object->resident.insert(page)) {
    FixedString<160> f;
    f << "vm_object_insert: object " << static_cast<const void*>(object)
      << " already has a resident page " << index;
    vm.platform.panic(f.c_str());
  }
  page_enqueue(vm, page);
  vm.stats.resident_user_added();
}

void vm_object_insert_busy(Vm& vm, VmObject* object, Page* page, u64 index) {
  vm_object_insert(vm, object, page, index);
  vm.platform.touched(page);
  page->busy.store(Page::kBusyExclusive);
}

Page* vm_object_busy_page(Vm& vm, VmObject* object, u64 start, u64 end) {
  for (Page* p = object->resident.lower_bound(start); p != nullptr && p->index < end;
       p = object->resident.next(p))
    if (page_busied(vm.platform, p)) return p;
  return nullptr;
}

void vm_object_page_remove(Vm& vm, VmObject* object, u64 start, u64 end, TlbBatch& batch) {
  vm.platform.assert_held(object->lock);
  remove_pages(vm, object, start, end, batch);
}

// One merge of `backing` (referenced by `object` alone) into `object`. The
// backing pages `object` shows move into it; the rest nobody can see.
// Not analysed: `backing` is reachable only through `object` (one reference,
// one shadow), whose lock the caller holds, and through pageout's queue,
// which its lock (held on entry, let go of here) keeps out.
static void collapse_one(Vm& vm, VmObject* object, VmObject* backing, TlbBatch& batch)
    RELEASE(backing->lock) NO_THREAD_SAFETY_ANALYSIS {
  const u64 window_start = object->backing_offset;
  const u64 window_end = window_start + object->size_pages;
  // Slots first: a slot of `object` hides a backing page as a page does.
  swap_pager_collapse(vm, object, backing);
  while (Page* page = backing->resident.first()) {
    backing->resident.remove(page);
    const bool visible = page->index >= window_start && page->index < window_end &&
                         object->resident.find(page->index - window_start) == nullptr &&
                         !swap_pager_has(object, page->index - window_start);
    if (visible) {
      // Mappings of the page stay valid: the frame does not change.
      page->index -= window_start;
      page_set_object(vm, page, object);
      // Cannot fail: `object` had no page at this index (checked above).
      if (!object->resident.insert(page)) vm.platform.panic("vm_object_collapse: index taken");
    } else {
      if (page_map_count(vm.platform, page) != 0)
        panic_mapped(vm, "vm_object_collapse", backing, page);
      vm.stats.resident_user_removed();
      page_dequeue(vm, page);
      page->object = nullptr;
      batch.defer_free(page);
    }
  }
  object->backing = backing->backing;
  object->backing_offset += backing->backing_offset;
  // `backing`'s place as a child of its own backing object passes to `object`.
  backing->backing = nullptr;
  backing->ref_count.store(0);
  vm.stats.collapses.add(1);
  vm.platform.mutex_unlock(backing->lock);
  free_object(vm, backing);
}

// A busy page belongs to a thread that dropped the object's lock for I/O or
// a copy and will come back to it: moving or freeing it under that thread
// would leave it working on a page that changed owner (or was reused).
// Not analysed: asked of a backing object, under the chain rule (h).
static bool has_busy_page(Vm& vm, VmObject* object) NO_THREAD_SAFETY_ANALYSIS {
  for (Page* p = object->resident.first(); p != nullptr; p = object->resident.next(p))
    if (page_busied(vm.platform, p)) return true;
  return false;
}

// Pageout reaches `backing`'s pages through its queue: the merge holds
// `backing`'s lock too (child before backing, the chain's order), and looks
// for busy pages under it.
void vm_object_collapse(Vm& vm, VmObject* object, TlbBatch& batch) {
  vm.platform.assert_held(object->lock);
  while (VmObject* backing = object->backing) {
    vm.platform.touched(&backing->lock);
    if (backing->ref_count.load() != 1 || backing->shadow_count.load() != 1) return;
    vm.platform.yield(YieldPoint::kCollapseBegin);
    vm.platform.mutex_lock(backing->lock);
    // Left for a later fault to collapse, once the page is no longer busy.
    if (has_busy_page(vm, backing) && !vm.mutated(Mutation::kCollapseWhileBusy)) {
      vm.platform.mutex_unlock(backing->lock);
      return;
    }
    collapse_one(vm, object, backing, batch);
  }
}

}  // namespace vm
