// Slab sanity checks, after MINIX's VM (SANITYCHECKS): with them on, every
// slab frame is read-only to the kernel itself except while code that
// changes one of its objects says so, MINIX's USE(). A write to a slab
// object outside a use traps on the machine and becomes an `invariant`
// violation naming the cache and the object (docs/kernel-memory.md, "Slab
// sanity").
//
// Who says USE(obj) (lib/write_guard.hpp):
//  - a lock that lives inside the object, while it is held (the lock word is
//    written, and the holder may change what the lock guards);
//  - lib/'s containers for the nodes they relink, its atomics for the words
//    they change (the fields built to change without the object's lock);
//  - TypedSlab for construction and destruction;
//  - a UseScope at every other write: a field guarded by a lock outside the
//    object (a region's bounds under its map's lock, a pv entry under the
//    pmap lock), written where the code does it.
//
// The machine protects whole frames, so a use opens its whole frame: a write
// to an object whose frame neighbour is in use goes unseen (MINIX protects
// pages too). Uses nest: a frame is writable while SlabPage::uses is not 0.
#pragma once

#include "lib/format.hpp"
#include "lib/types.hpp"
#include "lib/write_guard.hpp"

namespace vm {

class PageAllocator;
class Platform;
struct Page;

class SlabSanity final : public WriteGuard {
 public:
  SlabSanity() = default;
  ~SlabSanity();
  SlabSanity(const SlabSanity&) = delete;
  SlabSanity& operator=(const SlabSanity&) = delete;

  // Turns the checks on for every slab frame taken from now on (call it
  // before the first slab allocation), and makes this the active guard.
  // False when the machine cannot write-protect its memory for the kernel.
  bool enable(PageAllocator& pages, Platform& platform);
  bool on() const { return pages_ != nullptr; }

  // USE(p) begins and ends; `p` outside every slab frame is ignored.
  void open(const void* p) override;
  void close(const void* p) override;

  // A slab cache took the frame at `p` (protected from now on), or gives it
  // back.
  void guard(const void* p) override;
  void unguard(const void* p) override;

  // The machine trapped a kernel write to physical `pa`. If `pa` is in a
  // protected slab frame, records the first such write, opens the frame for
  // good so the write can complete, and returns true; false leaves the trap
  // to the machine (it is not ours).
  bool write_trapped(paddr_t pa);
  // The first write without USE(), described; nullptr while there was none.
  const char* violation() const { return violated_ ? violation_.c_str() : nullptr; }

 private:
  Page* slab_frame(const void* p) const;

  PageAllocator* pages_ = nullptr;
  Platform* platform_ = nullptr;
  bool violated_ = false;
  FixedString<192> violation_;
};

}  // namespace vm
