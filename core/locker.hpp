// Scoped holders of the core's locks. They take and drop a lock through the
// platform seam, which is why they live next to it and not in lib/ (nothing
// in lib/ depends on a machine).
#pragma once

#include "lib/mutex.hpp"
#include "platform.hpp"

namespace vm {

// Holds a Mutex for the lifetime of a scope.
class MutexLocker {
 public:
  MutexLocker(Platform& platform, Mutex& m) : platform_(platform), m_(m) {
    platform_.mutex_lock(m_);
  }
  ~MutexLocker() { platform_.mutex_unlock(m_); }
  MutexLocker(const MutexLocker&) = delete;
  MutexLocker& operator=(const MutexLocker&) = delete;

 private:
  Platform& platform_;
  Mutex& m_;
};

// Holds a leaf lock (Platform::leaf_lock) for the lifetime of a scope.
class LeafLocker {
 public:
  LeafLocker(Platform& platform, Mutex& m) : platform_(platform), m_(m) { platform_.leaf_lock(m_); }
  ~LeafLocker() { platform_.leaf_unlock(m_); }
  LeafLocker(const LeafLocker&) = delete;
  LeafLocker& operator=(const LeafLocker&) = delete;

 private:
  Platform& platform_;
  Mutex& m_;
};

}  // namespace vm
