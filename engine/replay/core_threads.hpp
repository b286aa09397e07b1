// What a machine's platform (core/platform.hpp) calls when core code running
// on a trace thread must stop: the replay engine's side of yielding and
// blocking. The simulator's platform and the port's both call this one
// interface; Replay implements it.
#pragma once

#include "lib/mutex.hpp"
#include "lib/yield_point.hpp"

namespace replay {

class CoreThreads {
 public:
  // A trace thread runs now (not the replay's scheduler loop).
  virtual bool on_thread() const = 0;
  // The running thread reached a yield point: the schedule may switch.
  virtual void yield_point(vm::YieldPoint point) = 0;
  // Stop the running thread until wake(channel). For deadlock reports:
  // `what` it waits for, and the lock when it is one. (No owned strings: a
  // run may end with the thread still blocked, its frames never unwound.)
  virtual void block(const void* channel, const char* what, const vm::Mutex* lock) = 0;
  virtual void wake(const void* channel) = 0;

 protected:
  ~CoreThreads() = default;
};

}  // namespace replay
