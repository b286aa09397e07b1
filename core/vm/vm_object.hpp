// A memory object: a sized array of pages, some of them resident (Mach's
// vm_object). Anonymous objects create their pages zero-filled on first use.
// A shadow object lies over a backing object: it holds the pages written
// since it was made (copy-on-write) and shows the backing object's pages
// through wherever it has none. Regions map ranges of objects; an object
// lives while a region or a shadow references it.
#pragma once

#include "lib/atomic.hpp"
#include "lib/avl_tree.hpp"
#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "lib/types.hpp"
#include "vm/page.hpp"
#include "vm/swap_entry.hpp"

namespace vm {

class Vm;
class TlbBatch;

struct PageIndexKey {
  u64 operator()(const Page& p) const { return p.index; }
};

// Locking (docs/locking.md):
//   (c) const after creation (set before the object is published)
//   (a) atomic
//   (o) this object's lock; checked where the lock can be named
//   (m) the lock of the one map that reaches the object while one_mapping
//       is set (then no other thread can reach it); a map lock the object
//       does not know, so the compiler cannot check it
//   (h) the chain rule: below an object whose lock is held, the chain is
//       stable (a backing object changes only by a collapse into the object
//       above it, under that object's lock) -- the lock relied on is another
//       object's, which the compiler cannot name
//   (l) Vm::all_objects_lock (a leaf lock)
//   (x) the audit's scratch: used only while every thread is stopped
class VmObject {
 public:
  enum class Kind : u8 {
    kAnonymous,  // pages start zero-filled
    kVnode,      // a file's page cache; pages come from the disk (`vnode`)
    kDevice,     // a device's fixed frames (vm/device.hpp): never resident, never
                 // shadowed, mapped shared only; the fault maps `device` directly
  };

  VmObject(Kind kind, u64 size_pages) : kind(kind), size_pages(size_pages) {}

  const Kind kind;  // (c)
  // (a) Invariant: the number of regions mapping this object, plus the number
  // of shadow objects whose `backing` it is, plus the file's own reference (a
  // vnode object), plus the faults working on it with its lock dropped;
  // destroyed when it drops to zero. Address spaces that share the object
  // change it under their own map locks.
  Atomic<u32> ref_count{1};
  // (a) Invariant: the number of objects whose `backing` is this one (children
  // are counted, never listed: a chain is simplified where a fault meets it).
  Atomic<u32> shadow_count;
  // (m) Set while only one address range of one map can reach the pages, so
  // pages of a range being unmapped can be freed at once (FreeBSD's
  // OBJ_ONEMAPPING). Private anonymous objects start with it; an object that
  // becomes a backing object or is shared by fork loses it for good.
  bool one_mapping = false;
  // (c) Pages [0, size_pages) exist; resident ones are in `resident`.
  u64 size_pages;
  struct Vnode* vnode = nullptr;    // (c) kVnode: the file
  struct Device* device = nullptr;  // (c) kDevice: the device
  // (o, h) The object this one shadows, and which of its pages this one's
  // page 0 is. Changed under this object's lock (collapse); read down a
  // chain under the lock of the object the walk started at.
  VmObject* backing = nullptr;
  u64 backing_offset = 0;
  // (o) Invariant: holds exactly the Pages with state kObject and object ==
  // this, keyed by their index, each index < size_pages. A backing object's
  // pages are also read under the chain rule (h): the walks that do so say
  // so where the analysis is turned off for them.
  AvlTree<Page, &Page::object_node, PageIndexKey> resident GUARDED_BY(lock);
  // (o) Pages whose content is on swap (vm/swap_pager.hpp). Invariant: no
  // index is both resident and on swap; each index < size_pages.
  SwapMap swap GUARDED_BY(lock);
  // (o) kVnode: pages pageout dropped (the file has them), so that reading
  // one again counts as a page-in (Linux's shadow entries, for the count
  // only; an entry that cannot be allocated is simply not kept).
  SwapMap evicted GUARDED_BY(lock);
  Mutex lock{"vm_object"};
  ListNode all_link;      // (l) in Vm::all_objects, for the audit
  u32 audit_refs = 0;     // (x) scratch for the audit's reference counts
  u32 audit_shadows = 0;  // (x)
};

// Creates an object with one reference; nullptr when no memory is left.
// `one_mapping`: the one map that will reach it maps it privately.
VmObject* vm_object_allocate(Vm& vm, VmObject::Kind kind, u64 size_pages, bool one_mapping = false);
// The object's pages become reachable through more than one path (it backs
// a shadow, or fork shares it): one_mapping goes for good.
void vm_object_share(VmObject* object);
void vm_object_reference(Vm& vm, VmObject* object);
// Drops a reference; the last one frees every resident page (deferred in
// `batch` until its invalidations are done), the object itself, and the
// reference it held on its backing object. An object is never freed with a
// busy page in it: the last reference waits until no page is busy (a busy
// page's owner holds a reference of its own, so in a correct core the wait
// ends at once; the check is what keeps a page from pointing into a freed
// object if one day it does not).
void vm_object_deallocate(Vm& vm, VmObject* object, TlbBatch& batch);

// A new object of `size_pages` shadowing pages [offset, offset+size_pages)
// of `backing`; the caller's reference on `backing` passes to it. nullptr
// (and the reference still the caller's) when out of memory.
VmObject* vm_object_shadow(Vm& vm, VmObject* backing, u64 offset, u64 size_pages);

// Merges `object`'s backing object into it when nothing else can see the
// backing object any more (its only reference is `object`), repeatedly down
// the chain. Pages move without copying. A backing object with a busy page
// is not merged (yet).
void vm_object_collapse(Vm& vm, VmObject* object, TlbBatch& batch) REQUIRES(object->lock);

// Length of the chain from `object` to its last backing object (1 = none).
// Reads the chain under the chain rule (h): the caller holds `object`'s lock
// or has the whole system to itself (the audit).
u32 vm_object_chain_length(const VmObject* object);

Page* vm_object_lookup(VmObject* object, u64 index) REQUIRES(object->lock);
// The page that `index` of `object` shows: its own, or through the chain.
// Sets *owner to the object that holds it; nullptr when no object has one.
Page* vm_object_lookup_chain(VmObject* object, u64 index, VmObject** owner) REQUIRES(object->lock);
// The locks a caller of vm_object_get_page holds, which a page-in lets go
// of while the disk read sleeps (FreeBSD's fault drops the map and object
// locks before it calls the pager): drop() releases them, retake() takes
// them back. The caller holds `object`'s lock, which drop() releases too;
// after a page-in it revalidates whatever it looked up before (the map may
// have changed meanwhile). Not annotated: which locks these are is the
// implementation's data (the fault's FaultState), not a name the analysis
// could check.
class PageInUnlock {
 public:
  virtual void drop() = 0;
  virtual void retake() = 0;

 protected:
  ~PageInUnlock() = default;
};

// As vm_object_lookup_chain, but a page on swap (any object) or of a file
// (a vnode object) is paged in, under the lock of the object that gets it
// (taken here for objects below `object`), with the caller's locks dropped
// through `unlock` during the read. *result says why nothing came back:
// kOk with nullptr means zero (anonymous memory never written), kPastEof
// that the file ends before it; kBusy returns the page met busy
// exclusively, which the caller must wait for with every lock dropped. A
// page held shared (the source of someone's copy) is returned: it may be
// read, mapped and copied, not written. A page of an object other than
// `object` comes back held shared (busy): the caller lets go of it
// (page_sunbusy) once it has mapped or copied it, so that pageout cannot
// take it in between.
enum class PagerResult : u8;
Page* vm_object_get_page(Vm& vm, VmObject* object, u64 index, VmObject** owner, PagerResult* result,
                         PageInUnlock& unlock) REQUIRES(object->lock);
// Makes a free frame `page` the resident page `index` of `object` (whose lock
// is held). An index already resident is a broken invariant: panic.
void vm_object_insert(Vm& vm, VmObject* object, Page* page, u64 index) REQUIRES(object->lock);
// The same, the page held busy exclusively from the start (a page-in or a
// copy being made): nobody ever sees it before its content is there.
void vm_object_insert_busy(Vm& vm, VmObject* object, Page* page, u64 index) REQUIRES(object->lock);
// The first busy page (shared or exclusive) with index in [start, end), or
// nullptr. A caller that is about to remove pages waits for it
// (Platform::wait_for on the page).
Page* vm_object_busy_page(Vm& vm, VmObject* object, u64 start, u64 end) REQUIRES(object->lock);
// Frees the resident pages with index in [start, end), except busy ones
// (marked `discard`: their owner revalidates and removes them), and the swap
// slots of that range. They must be unmapped (map_count 0); freeing waits
// for `batch`'s invalidations.
void vm_object_page_remove(Vm& vm, VmObject* object, u64 start, u64 end, TlbBatch& batch)
    REQUIRES(object->lock);

}  // namespace vm
