// A file: a name, a size, its place on the disk, and the memory object whose
// resident pages are its page cache (a vnode object). The vnode pager fills
// that object from the disk through the platform.
#pragma once

#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "lib/types.hpp"
#include "vm/vm_object.hpp"

namespace vm {

class Vm;
struct Page;

// Locking (docs/locking.md):
//   (c) const after creation
//   (z) written holding both io_lock and the file object's lock, so either
//       keeps it still; a fault reads it under a map lock alone (truncate
//       moves the size first, then bumps every map's generation under its
//       map lock, so a fault that read the old size starts over). A choice
//       of locks, and a revalidation, which the compiler cannot check.
//   (k) the kernel's file list (Kernel::files)
struct Vnode {
  static constexpr size_t kMaxName = 64;

  char name[kMaxName + 1] = {};  // (c)
  u32 disk_id = 0;               // (c)
  // (z) Invariant, outside a truncate in flight: page-cache pages all have
  // index < pages(); bytes at or past `size` in the last page are zero
  // except where a mapping wrote them.
  u64 size = 0;
  // Held through a whole truncate or pwrite (Linux's i_rwsem): one size
  // change at a time, and no write into pages a truncate is removing.
  // Faults never take it; an mmap with MAP_POPULATE of the file holds it
  // around its map lock (the copies are of one moment of the file).
  // Order: io_lock, then map locks, then object locks.
  Mutex io_lock{"vnode_io"};
  VmObject* object = nullptr;  // (c) holds one reference for the file itself
  ListNode link;               // (k) in Kernel::files, ascending by name

  u64 pages() const { return page_round(size) >> kPageShift; }
};

// kBusy: the page met is busy (another thread pages it in or copies it);
// the caller drops its locks, waits for it and starts over.
enum class PagerResult : u8 { kOk, kNoMem, kPastEof, kBusy };

class PageInUnlock;

// Brings page `index` of the vnode object in from the disk (zero past EOF
// inside the last page), under `object`'s lock: the new page is inserted
// busy (exclusive) and the locks are let go of for the read, at the yield
// point fault.pager_io, where a real kernel sleeps: `object`'s lock when
// `own_lock` (the pager's own: the caller walks a chain above it), then the
// caller's through `unlock`. After the read everything is retaken; if the
// file shrank meanwhile the page is dropped again and kPastEof returned.
// The caller holds `object`'s lock (Vnode::size, VmObject::resident).
PagerResult vnode_pager_getpage(Vm& vm, VmObject* object, u64 index, Page** out,
                                PageInUnlock& unlock, bool own_lock) REQUIRES(object->lock);

}  // namespace vm
