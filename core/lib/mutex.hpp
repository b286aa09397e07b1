// A sleeping lock of the core. Taking and dropping it goes through the
// platform (core/locker.hpp), so the simulator's scheduler sees every lock
// (a thread that would block yields to another; a cycle is reported as a
// deadlock) and the port can implement it with real atomics.
#pragma once

#include "lib/thread_annotations.hpp"
#include "lib/types.hpp"

namespace vm {

// A capability to the thread-safety analysis (lib/thread_annotations.hpp):
// fields say GUARDED_BY(some_mutex), functions REQUIRES(some_mutex).
class CAPABILITY("mutex") Mutex {
 public:
  static constexpr u32 kUnowned = 0;

  // What an explorer's footprints make of holding the lock
  // (docs/explore.md, footprints).
  enum class Footprint : u8 {
    kGuarded,  // a write: the holders' order is the order they saw its data
    // Every field it guards is reported through Platform::touched wherever
    // it is used (Vm::pmap_lock: pmap walks, busy and reverse-map words):
    // the lock itself counts only where it is held across a scheduling point.
    kDataReported,
    // The holders' order shows nowhere: which frame or slab slot an
    // allocator hands out (no outcome, digest or violation names a physical
    // address), the list of all objects (read by the audit alone).
    kUnordered,
  };

  explicit constexpr Mutex(const char* name, Footprint footprint = Footprint::kGuarded)
      : name_(name), footprint_(footprint) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  const char* name() const { return name_; }
  Footprint footprint() const { return footprint_; }
  bool data_reported() const { return footprint_ == Footprint::kDataReported; }

  // Owned by the platform: an identifier of the holder, kUnowned when free.
  // Written only by the platform's lock and unlock (atomically on the port);
  // Platform::assert_held reads it in the simulator. A sleeping lock only:
  // a leaf lock may be free of bookkeeping where nothing contends for it.
  u32 owner = kUnowned;

 private:
  const char* name_;
  Footprint footprint_;
};

}  // namespace vm
