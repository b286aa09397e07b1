// A kernel thread of the deterministic replay: its own stack and saved
// context, so that a trace thread can stop anywhere inside the core (a yield
// point, a lock it waits for) and go on later. Who resumes it regains
// control when it suspends; nothing here picks who runs (scheduler.cpp).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace port {

struct KThread {
  uint64_t rsp = 0;          // its context while it is not running
  uint64_t resumer_rsp = 0;  // the resumer's context while it runs
  bool started = false;      // resumed at least once
  bool finished = false;     // its entry returned: never resume it again
};

// Sets `t` up to run entry(arg) on [stack, stack + size) when first resumed.
// The entry must end with kthread_exit().
void kthread_init(KThread* t, uint8_t* stack, size_t size, void (*entry)(void*), void* arg);

// Runs `t` until it suspends or exits. On the CPU that resumed it last: a
// context holds per-CPU state (the stack the trap handlers return to).
void kthread_resume(KThread* t);

// From inside `t`: back to its resumer, until resumed again.
void kthread_suspend(KThread* t);

// From inside `t`: back to its resumer for good.
[[noreturn]] void kthread_exit(KThread* t);

}  // namespace port
