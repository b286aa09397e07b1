// The descriptor of one physical page frame (FreeBSD's vm_page). One exists
// for every frame of RAM, in an array carved from the start of RAM at boot;
// a frame's physical address is implied by its place in that array.
#pragma once

#include "lib/avl_tree.hpp"
#include "lib/list.hpp"
#include "lib/types.hpp"

namespace vm {

class VmObject;
struct SlabPage;

// Locking. Who may touch a field depends on who owns the frame (its state),
// so none of these locks can be named in an annotation: the Page does not
// know its object's type here, and the owner changes (a collapse moves pages
// between objects). The owners' functions carry the REQUIRES instead.
//   (f) the page allocator's lock while kFree (PageAllocator::lock_)
//   (r) the frame's owner: the allocator between alloc() and the caller
//       giving it a role, then the lock of that role: (o), (p) or (s)
//   (o) the owning object's lock (VmObject::lock) while kObject
//   (p) the lock of the address space whose page tables it is (kPageTable)
//   (s) the slab cache's lock while kSlab
//   (a) atomic
//   (x) the audit's scratch: used only while every thread is stopped
struct Page {
  // Every frame is in exactly one state (the audit checks it).
  enum class State : u8 {
    kFree,       // on the allocator's free list
    kBoot,       // taken at boot (the page array itself); never freed
    kAllocated,  // returned by PageAllocator::alloc(), role not set yet
    kObject,     // a resident page of exactly one VmObject (`object`, `index`)
    kPageTable,  // an x86-64 paging-structure page of one Pmap
    kSlab,       // backing store of a slab cache
    kZero,       // the shared zero page: mapped read-only for reads of untouched
                 // anonymous memory; never written, never freed
  };
  static constexpr u8 kBusy = 1 << 0;  // kObject: I/O or a copy in progress

  State state = State::kBoot;  // (r)
  // (o) Issue 9: the copy-on-write fault also sets kBusy on a backing
  // object's page holding only the first object's lock (to become a real
  // test-and-set); the compiler cannot see it, a Page's lock has no name.
  u8 flags = 0;
  // (p) kPageTable: number of non-zero entries (the page is freed at zero).
  u16 pt_entries = 0;
  // (a) kObject: number of PTEs that map this frame (the reverse-map count).
  u32 map_count = 0;

  VmObject* object = nullptr;  // (o) kObject: owner
  u64 index = 0;               // (o) kObject: page index in the owner
  AvlNode object_node;         // (o) kObject: in the owner's resident tree, by index
  // (f) kFree: the free list; (s) kSlab: the cache's page list; between
  // unhook and free, the TlbBatch of the thread that deferred it.
  ListNode queue_node;
  SlabPage* slab = nullptr;  // (s) kSlab: slab bookkeeping for this frame
  u32 audit_mark = 0;        // (x) scratch for the audit's counting passes
};

// The reverse-map count changes atomically: a page shared copy-on-write by
// two address spaces gains and loses mappings in both, under different map
// locks, on different CPUs in the port's SMP stress mode.
inline void page_map_add(Page* page) {
  __atomic_add_fetch(&page->map_count, 1, __ATOMIC_RELAXED);
}
// Drops one mapping, never below zero.
inline void page_map_drop(Page* page) {
  u32 n = __atomic_load_n(&page->map_count, __ATOMIC_RELAXED);
  while (n > 0 && !__atomic_compare_exchange_n(&page->map_count, &n, n - 1, true, __ATOMIC_RELAXED,
                                               __ATOMIC_RELAXED)) {
  }
}

}  // namespace vm
