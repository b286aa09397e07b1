// A fiber: a function running on its own stack that the simulator switches
// to and from explicitly. Each trace thread runs the core on one, so that a
// thread can stop at a yield point deep inside the core and another thread
// can run until the scheduler resumes the first (docs/explore.md).
#pragma once

#include <cstddef>
#include <functional>

namespace vmsim {
class Fiber;
}
extern "C" void* vmsim_fiber_main(vmsim::Fiber* self);  // fiber_switch.S calls it

namespace vmsim {

class Fiber {
 public:
  static constexpr size_t kStackSize = size_t{1} << 20;

  explicit Fiber(std::function<void()> body);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber until it suspends or its body returns. Only from the
  // main stack, never from inside a fiber.
  void resume();
  // From inside this fiber: back to whoever called resume().
  void suspend();

  bool finished() const { return finished_; }
  bool started() const { return started_; }
  // The fiber now running, nullptr on the main stack.
  static Fiber* current();

 private:
  friend void* ::vmsim_fiber_main(Fiber* self);
  // The fiber's life on its own stack; returns where to switch when done.
  void* run();

  std::function<void()> body_;
  void* stack_ = nullptr;
  void* sp_ = nullptr;         // the fiber's saved stack pointer while it is not running
  void* caller_sp_ = nullptr;  // resume()'s saved stack pointer while the fiber runs
  bool started_ = false;
  bool finished_ = false;
  // AddressSanitizer's view of the stack being left (see fiber.cpp).
  void* fake_stack_ = nullptr;
  const void* caller_stack_bottom_ = nullptr;
  size_t caller_stack_size_ = 0;
};

}  // namespace vmsim
