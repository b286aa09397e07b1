// A sleeping lock of the core. Taking and dropping it goes through the
// platform, so the simulator's scheduler sees every lock (a thread that would
// block yields to another; a cycle is reported as a deadlock) and the port
// can implement it with real atomics.
#pragma once

#include "lib/thread_annotations.hpp"
#include "lib/types.hpp"
#include "platform.hpp"

namespace vm {

// A capability to the thread-safety analysis (lib/thread_annotations.hpp):
// fields say GUARDED_BY(some_mutex), functions REQUIRES(some_mutex).
class CAPABILITY("mutex") Mutex {
 public:
  static constexpr u32 kUnowned = 0;

  explicit constexpr Mutex(const char* name) : name_(name) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  const char* name() const { return name_; }

  // Owned by the platform: an identifier of the holder, kUnowned when free.
  // Written only by the platform's lock and unlock (atomically on the port);
  // Platform::assert_held reads it in the simulator. A sleeping lock only:
  // a leaf lock may be free of bookkeeping where nothing contends for it.
  u32 owner = kUnowned;

 private:
  const char* name_;
};

// Holds a Mutex for the lifetime of a scope.
class SCOPED_CAPABILITY MutexLocker {
 public:
  MutexLocker(Platform& platform, Mutex& m) ACQUIRE(m) : platform_(platform), m_(m) {
    platform_.mutex_lock(m_);
  }
  ~MutexLocker() RELEASE() { platform_.mutex_unlock(m_); }
  MutexLocker(const MutexLocker&) = delete;
  MutexLocker& operator=(const MutexLocker&) = delete;

 private:
  Platform& platform_;
  Mutex& m_;
};

// Holds a leaf lock (Platform::leaf_lock) for the lifetime of a scope.
class SCOPED_CAPABILITY LeafLocker {
 public:
  LeafLocker(Platform& platform, Mutex& m) ACQUIRE(m) : platform_(platform), m_(m) {
    platform_.leaf_lock(m_);
  }
  ~LeafLocker() RELEASE() { platform_.leaf_unlock(m_); }
  LeafLocker(const LeafLocker&) = delete;
  LeafLocker& operator=(const LeafLocker&) = delete;

 private:
  Platform& platform_;
  Mutex& m_;
};

}  // namespace vm
