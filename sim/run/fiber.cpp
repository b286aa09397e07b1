#include "run/fiber.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define VMSIM_ASAN_FIBERS 1
#endif

namespace vmsim {
namespace {

thread_local Fiber* g_current = nullptr;

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
  // mmap: untouched stack pages cost nothing, and a guard page below
  // catches an overflow.
  stack_ = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack_ == MAP_FAILED) throw std::runtime_error("cannot allocate a fiber stack");
  mprotect(stack_, 4096, PROT_NONE);
  getcontext(&context_);
  context_.uc_stack.ss_sp = stack_;
  context_.uc_stack.ss_size = kStackSize;
  context_.uc_link = nullptr;
  const auto self = reinterpret_cast<uintptr_t>(this);
  makecontext(&context_, reinterpret_cast<void (*)()>(&Fiber::entry), 2,
              static_cast<unsigned>(self & 0xffffffffu), static_cast<unsigned>(self >> 32));
}

Fiber::~Fiber() {
  munmap(stack_, kStackSize);
}

Fiber* Fiber::current() {
  return g_current;
}

void Fiber::entry(unsigned lo, unsigned hi) {
  auto* self = reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo);
  finish_switch(nullptr, &self->caller_stack_bottom_, &self->caller_stack_size_);
  self->body_();
  self->finished_ = true;
  g_current = nullptr;
  // Back for good: this stack is dead, so no fake stack is kept.
  start_switch(nullptr, self->caller_stack_bottom_, self->caller_stack_size_);
  setcontext(&self->caller_);
}

void Fiber::resume() {
  if (finished_ || g_current != nullptr) throw std::logic_error("fiber resumed wrongly");
  started_ = true;
  g_current = this;
  void* fake = nullptr;
  start_switch(&fake, stack_, kStackSize);
  swapcontext(&caller_, &context_);
  finish_switch(fake, nullptr, nullptr);
  g_current = nullptr;
}

void Fiber::suspend() {
  g_current = nullptr;
  start_switch(&fake_stack_, caller_stack_bottom_, caller_stack_size_);
  swapcontext(&context_, &caller_);
  finish_switch(fake_stack_, &caller_stack_bottom_, &caller_stack_size_);
  g_current = this;
}

}  // namespace vmsim
