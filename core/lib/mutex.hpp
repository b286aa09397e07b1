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

  // `data_reported`: every field the lock guards is reported through
  // Platform::touched wherever it is used (Vm::pmap_lock: pmap walks, busy
  // and reverse-map words), so an explorer needs the lock itself only where
  // it is held across a scheduling point (docs/explore.md, footprints).
  explicit constexpr Mutex(const char* name, bool data_reported = false)
      : name_(name), data_reported_(data_reported) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  const char* name() const { return name_; }
  bool data_reported() const { return data_reported_; }

  // Owned by the platform: an identifier of the holder, kUnowned when free.
  // Written only by the platform's lock and unlock (atomically on the port);
  // Platform::assert_held reads it in the simulator. A sleeping lock only:
  // a leaf lock may be free of bookkeeping where nothing contends for it.
  u32 owner = kUnowned;

 private:
  const char* name_;
  bool data_reported_;
};

}  // namespace vm
