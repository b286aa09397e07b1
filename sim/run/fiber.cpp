#include "run/fiber.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define VMSIM_ASAN_FIBERS 1
#endif

extern "C" {
void vmsim_fiber_switch(void** save_sp, void* load_sp);  // fiber_switch.S
void vmsim_fiber_start();                                // fiber_switch.S
}

namespace vmsim {
namespace {

thread_local Fiber* g_current = nullptr;

// Stacks of ended fibers, kept for the next ones of this thread: the
// explorer makes a few fibers per run and thousands of runs, and a new
// mapping costs its munmap's TLB shootdown and its first touches again.
class StackPool {
 public:
  ~StackPool() {
    for (size_t i = 0; i < count_; ++i) munmap(stacks_[i], Fiber::kStackSize);
  }
  void* take() {
    if (count_ != 0) return stacks_[--count_];
    // mmap: untouched stack pages cost nothing, and a guard page below
    // catches an overflow.
    void* stack = mmap(nullptr, Fiber::kStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED) throw std::runtime_error("cannot allocate a fiber stack");
    mprotect(stack, 4096, PROT_NONE);
    return stack;
  }
  void give(void* stack) {
    if (count_ == kKeep) {
      munmap(stack, Fiber::kStackSize);
      return;
    }
    stacks_[count_++] = stack;
  }

 private:
  static constexpr size_t kKeep = 16;
  void* stacks_[kKeep] = {};
  size_t count_ = 0;
};

thread_local StackPool g_stacks;

// AddressSanitizer must be told about every stack switch, or it mistakes
// the other stack's frames for overflows and garbage.
void start_switch(void** fake_stack_save, const void* bottom, size_t size) {
#ifdef VMSIM_ASAN_FIBERS
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

void finish_switch(void* fake_stack_save, const void** bottom_old, size_t* size_old) {
#ifdef VMSIM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
#else
  (void)fake_stack_save, (void)bottom_old, (void)size_old;
#endif
}

}  // namespace

Fiber::Fiber(std::function<void()> body) : body_(std::move(body)) {
  stack_ = g_stacks.take();
#ifdef VMSIM_ASAN_FIBERS
  // The shadow of this range may still hold the redzones of an earlier
  // fiber's frames at the same address (frames a longjmp inside Unicorn
  // left without returning): a new stack starts clean.
  __asan_unpoison_memory_region(stack_, kStackSize);
#endif
  // The first switch to the fiber "returns" into vmsim_fiber_start with
  // `this` in r12: a frame as vmsim_fiber_switch leaves it (control words,
  // r15..rbp, return address), placed so the stack is 16-byte aligned there.
  auto* top = reinterpret_cast<uint64_t*>(static_cast<uint8_t*>(stack_) + kStackSize);
  uint64_t* frame = top - 10;  // 8 saved words + return address, and one pad word
  uint32_t mxcsr = 0;
  uint16_t fpu_cw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpu_cw));
  frame[0] = mxcsr | (uint64_t{fpu_cw} << 32);
  frame[1] = 0;                                 // r15
  frame[2] = 0;                                 // r14
  frame[3] = 0;                                 // r13
  frame[4] = reinterpret_cast<uint64_t>(this);  // r12
  frame[5] = 0;                                 // rbx
  frame[6] = 0;                                 // rbp
  frame[7] = reinterpret_cast<uint64_t>(&vmsim_fiber_start);
  frame[8] = 0;  // pad: after the return, rsp = frame + 8, 16-byte aligned
  sp_ = frame;
}

Fiber::~Fiber() {
  g_stacks.give(stack_);
}

Fiber* Fiber::current() {
  return g_current;
}

void* Fiber::run() {
  finish_switch(nullptr, &caller_stack_bottom_, &caller_stack_size_);
  body_();
  finished_ = true;
  g_current = nullptr;
  // Back for good: this stack is dead, so no fake stack is kept.
  start_switch(nullptr, caller_stack_bottom_, caller_stack_size_);
  return caller_sp_;
}

void Fiber::resume() {
  if (finished_ || g_current != nullptr) throw std::logic_error("fiber resumed wrongly");
  started_ = true;
  g_current = this;
  void* fake = nullptr;
  start_switch(&fake, stack_, kStackSize);
  vmsim_fiber_switch(&caller_sp_, sp_);
  finish_switch(fake, nullptr, nullptr);
  g_current = nullptr;
}

void Fiber::suspend() {
  g_current = nullptr;
  start_switch(&fake_stack_, caller_stack_bottom_, caller_stack_size_);
  vmsim_fiber_switch(&sp_, caller_sp_);
  finish_switch(fake_stack_, &caller_stack_bottom_, &caller_stack_size_);
  g_current = this;
}

}  // namespace vmsim

extern "C" void* vmsim_fiber_main(vmsim::Fiber* self) {
  return self->run();
}
