#include "kthread.hpp"

#include "console.hpp"

extern "C" void context_switch(uint64_t* save_rsp, uint64_t load_rsp);
extern "C" void context_start();

namespace port {

void kthread_init(KThread* t, uint8_t* stack, size_t size, void (*entry)(void*), void* arg) {
  *t = KThread{};
  // What context_switch pops: r15, r14, r13, r12, rbx, rbp, then the return
  // address (context_start aligns the stack itself).
  auto* top = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(stack + size) & ~15ull);
  uint64_t* sp = top - 8;
  sp[0] = 0;                                           // r15
  sp[1] = 0;                                           // r14
  sp[2] = reinterpret_cast<uint64_t>(arg);             // r13
  sp[3] = reinterpret_cast<uint64_t>(entry);           // r12
  sp[4] = 0;                                           // rbx
  sp[5] = 0;                                           // rbp
  sp[6] = reinterpret_cast<uint64_t>(&context_start);  // return address
  sp[7] = 0;
  t->rsp = reinterpret_cast<uint64_t>(sp);
}

void kthread_resume(KThread* t) {
  if (t->finished) kpanic("kthread_resume: the thread has exited");
  t->started = true;
  context_switch(&t->resumer_rsp, t->rsp);
}

void kthread_suspend(KThread* t) {
  context_switch(&t->rsp, t->resumer_rsp);
}

void kthread_exit(KThread* t) {
  t->finished = true;
  context_switch(&t->rsp, t->resumer_rsp);
  kpanic("kthread_exit: an exited thread was resumed");
}

}  // namespace port
