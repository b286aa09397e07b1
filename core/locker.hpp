// Scoped holders of the core's locks. They take and drop a lock through the
// platform seam, which is why they live next to it and not in lib/ (nothing
// in lib/ depends on a machine).
#pragma once

#include "lib/mutex.hpp"
#include "lib/thread_annotations.hpp"
#include "platform.hpp"

namespace vm {

// Holds a Mutex for the lifetime of a scope. To the thread-safety analysis
// it is a scoped capability: the lock is held from construction to the end
// of the scope.
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
