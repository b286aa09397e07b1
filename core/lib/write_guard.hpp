// Memory the kernel keeps read-only to itself except while code says it is
// writing there: MINIX's USE(), the slab sanity checks of vm/slab_sanity.hpp.
// lib/ cannot know which memory that is, so it asks the active guard: its
// containers open the nodes they relink, its atomics the words they change,
// and the core's locks the objects they live in (core/platform.hpp).
//
// With no guard (the default, and always on the port's SMP stress mode)
// every UseScope is one not-taken branch.
#pragma once

#include "lib/types.hpp"

namespace vm {

class WriteGuard {
 public:
  // A write to the memory at `p` may follow, until the matching close().
  // Opens nest.
  virtual void open(const void* p) = 0;
  virtual void close(const void* p) = 0;
  // The memory at `p` (a slab frame) is checked from now on / no longer.
  virtual void guard(const void* p) = 0;
  virtual void unguard(const void* p) = 0;

 protected:
  ~WriteGuard() = default;
};

// The guard of the one kernel that checks (set by SlabSanity::enable; a
// machine runs one checked kernel at a time).
inline WriteGuard* active_write_guard = nullptr;

// USE(p) for the lifetime of a scope; nullptr uses nothing.
class UseScope {
 public:
  explicit UseScope(const void* p) : guard_(p != nullptr ? active_write_guard : nullptr), p_(p) {
    if (guard_ != nullptr) guard_->open(p_);
  }
  ~UseScope() {
    if (guard_ != nullptr) guard_->close(p_);
  }
  UseScope(const UseScope&) = delete;
  UseScope& operator=(const UseScope&) = delete;

 private:
  WriteGuard* guard_;
  const void* p_;
};

}  // namespace vm
