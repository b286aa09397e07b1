// The descriptor of one physical page frame (FreeBSD's vm_page). One exists
// for every frame of RAM, in an array carved from the start of RAM at boot;
// a frame's physical address is implied by its place in that array.
#pragma once

#include "lib/atomic.hpp"
#include "lib/avl_tree.hpp"
#include "lib/format.hpp"
#include "lib/list.hpp"
#include "lib/types.hpp"
#include "platform.hpp"

namespace vm {

class VmObject;
struct PvEntry;
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
    kZero,       // the shared zero page, or a frame of the huge zero page
                 // (Vm::huge_zero): mapped read-only for reads of untouched
                 // anonymous memory; never written, never freed
    kKernel,     // kernel bookkeeping outside the slabs (the swap map's vmem tags)
    kCache,      // a page of a block-cache block (vm/block_cache.hpp): `index` in it
  };
  // `busy` with this bit: held exclusively; without it, the number of
  // shared holders (see the busy functions below).
  static constexpr u32 kBusyExclusive = u32{1} << 31;

  State state = State::kBoot;  // (r)
  // (p) kPageTable: number of non-zero entries (the page is freed at zero).
  u16 pt_entries = 0;
  // (a) kObject: number of PTEs that map this frame (the reverse-map count);
  // changed by address spaces under different map locks.
  Atomic<u32> map_count;
  // (a) kObject: the busy lock: 0, kBusyExclusive, or a shared count. Taken
  // and dropped with compare-exchange, under the owner's lock or not (a
  // copy-on-write fault shares a backing object's page holding only the
  // first object's lock).
  Atomic<u32> busy;
  u32 audit_mark = 0;  // (x) scratch for the audit's counting passes

  VmObject* object = nullptr;  // (o) kObject: owner; changes under Vm::page_queue_lock too
  u64 index = 0;               // (o) kObject: page index in the owner
  AvlNode object_node;         // (o) kObject: in the owner's resident tree, by index
  // (f) kFree: the free list; (s) kSlab: the cache's page list; kCache: its
  // block's frame list (the block's owner, vm/block_cache.hpp); (q) kObject:
  // the pageout queue (Vm::page_queue_lock); between unhook and free, the
  // TlbBatch of the thread that deferred it.
  ListNode queue_node;
  PvEntry* pv = nullptr;  // (p) kObject: the PTEs that map it (vm/rmap.hpp; Vm::pmap_lock)
  // (p) kObject: the newest delayed-invalidation generation that removed a
  // PTE of it (vm/delayed_invalidation.hpp); 0: none.
  u64 invl_gen = 0;
  // kObject: written since its pager last had a copy. pwrite and poke set
  // it under the owner's lock (the kernel writes through no PTE); removing a
  // PTE with D set sets it under Vm::pmap_lock; only pageout clears it, with
  // the page busy and unmapped. An anonymous page has no copy until it is
  // swapped out.
  bool dirty = false;
  // (o) kObject: removed from its object while busy (vm_object_page_remove
  // skips busy pages): whoever holds it busy must drop it rather than keep it.
  bool discard = false;
  // (q) kObject: GCLOCK credit, the references pageout's hand has seen and
  // not yet taken back (vm_pageout's max_credit; 0 under plain CLOCK).
  u8 credit = 0;
  SlabPage* slab = nullptr;  // (s) kSlab: slab bookkeeping for this frame
};
// 112 bytes on x86-64 (fields ordered to leave no padding worth a field):
// 256 frames of 1 MiB spend 7 on the page array.
static_assert(sizeof(void*) != 8 || sizeof(Page) == 112, "Page grew: machine.memory fits less");

// The reverse-map count changes atomically: a page shared copy-on-write by
// two address spaces gains and loses mappings in both, under different map
// locks, on different CPUs in the port's SMP stress mode.
inline void page_map_add(Page* page) {
  page->map_count.add(1);
}
inline void page_map_add(Platform& platform, Page* page) {
  platform.touched(page);
  page_map_add(page);
}
// Reads the reverse-map count (no lock orders it against the changes).
inline u32 page_map_count(Platform& platform, const Page* page) {
  platform.touched(page);
  return page->map_count.load();
}
// Drops one mapping. A count already at zero means a PTE was removed twice
// or never counted: the reverse map is broken, and the next free of the frame
// could hand out memory that is still mapped.
inline void page_map_drop(Platform& platform, Page* page) {
  platform.touched(page);
  u32 n = page->map_count.load();
  do {
    if (n == 0) {
      FixedString<160> f;
      f << "page_map_drop: page " << page->index << " of object "
        << static_cast<const void*>(page->object) << " has no mapping left to drop";
      platform.panic(f.c_str());
    }
  } while (!page->map_count.compare_exchange(&n, n - 1));
}

// The busy lock (FreeBSD's vm_page busy: vm_page_xbusy / vm_page_sbusy). A
// thread that works on a page with its object's lock dropped holds the page
// busy, so nobody moves, frees or rewrites it meanwhile; whoever meets a page
// busy in a way it cannot share drops its locks, sleeps on the page
// (Platform::wait_for) and starts over.
//  - Exclusive: the page is being made (read in from the disk, or a
//    copy-on-write copy being filled). Nobody else may use it at all.
//  - Shared: the page is being read (the source of a copy-on-write copy).
//    Others may read and map it, and copy it too (two address spaces may
//    copy one backing page at once); nobody may write, move or free it
//    until the last shared holder lets go.
// Taking it is one compare-exchange on one word, so two CPUs can never both
// believe they took it exclusively, and the first shared holder to finish
// never ends another's hold.
inline bool page_busied(const Page* page) {
  return page->busy.load() != 0;
}
inline bool page_xbusied(const Page* page) {
  return (page->busy.load() & Page::kBusyExclusive) != 0;
}
// Takes the page exclusively if nobody holds it busy.
inline bool page_try_xbusy(Page* page) {
  u32 expected = 0;
  return page->busy.compare_exchange(&expected, Page::kBusyExclusive);
}
// Adds a shared holder unless the page is held exclusively.
inline bool page_try_sbusy(Page* page) {
  u32 n = page->busy.load();
  do {
    if (n & Page::kBusyExclusive) return false;
  } while (!page->busy.compare_exchange(&n, n + 1));
  return true;
}

// The forms the core calls: they tell the platform that the busy word was
// read or changed (Platform::touched), since no lock orders it. The ones
// above are the bare words (the unit tests use them on a lone page).
inline bool page_busied(Platform& platform, const Page* page) {
  platform.touched(page);
  return page_busied(page);
}
inline bool page_xbusied(Platform& platform, const Page* page) {
  platform.touched(page);
  return page_xbusied(page);
}
inline bool page_try_xbusy(Platform& platform, Page* page) {
  platform.touched(page);
  return page_try_xbusy(page);
}
inline bool page_try_sbusy(Platform& platform, Page* page) {
  platform.touched(page);
  return page_try_sbusy(page);
}

[[noreturn]] inline void panic_unbusy(Platform& platform, const char* what, Page* page, u32 word) {
  FixedString<160> f;
  f << what << ": page " << page->index << " of object " << static_cast<const void*>(page->object)
    << " has busy word " << Hex{word};
  platform.panic(f.c_str());
  __builtin_unreachable();
}

// Ends the exclusive hold and wakes whoever sleeps on the page.
inline void page_xunbusy(Platform& platform, Page* page) {
  platform.touched(page);
  u32 expected = Page::kBusyExclusive;
  if (!page->busy.compare_exchange(&expected, 0))
    panic_unbusy(platform, "page_xunbusy of a page not held exclusively", page, expected);
  platform.wake(page);
}
// Ends one shared hold; the last one wakes the sleepers.
inline void page_sunbusy(Platform& platform, Page* page) {
  platform.touched(page);
  u32 n = page->busy.load();
  do {
    if (n == 0 || (n & Page::kBusyExclusive))
      panic_unbusy(platform, "page_sunbusy of a page not held shared", page, n);
  } while (!page->busy.compare_exchange(&n, n - 1));
  if (n == 1) platform.wake(page);
}

}  // namespace vm
