// The replay's side of blocking and yielding on the port: what PortPlatform
// calls when core code running on a trace thread's kernel thread must stop
// (the port's counterpart of the simulator's CoreThreads).
#pragma once

#include "lib/mutex.hpp"
#include "lib/yield_point.hpp"

namespace port {

class PortThreads {
 public:
  // A trace thread's kernel thread is running (not the scheduler loop).
  virtual bool on_thread() const = 0;
  // The running thread reached a yield point: the scheduler may switch.
  virtual void yield_point(vm::YieldPoint point) = 0;
  // Stop the running thread until wake(channel). For deadlock reports: `what`
  // it waits for, and the lock when it is one.
  virtual void block(const void* channel, const char* what, const vm::Mutex* lock) = 0;
  virtual void wake(const void* channel) = 0;

 protected:
  ~PortThreads() = default;
};

}  // namespace port
