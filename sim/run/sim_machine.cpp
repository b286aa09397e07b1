#include "run/sim_machine.hpp"

namespace vmsim {

SimMachine::SimMachine(vmsim::Machine& machine, SimPlatform& platform, size_t threads)
    : machine_(machine), platform_(platform), threads_(threads) {}

void SimMachine::resume(size_t thread) {
  Thread& t = threads_[thread];
  if (!t.fiber) t.fiber = std::make_unique<Fiber>([this, thread] { body(thread); });
  platform_.set_current(replay_->thread(thread).spec->cpu, static_cast<uint32_t>(thread));
  platform_.arm_panic(&t.panic_jmp);
  t.fiber->resume();
  platform_.arm_panic(run_panic_);
}

// The fiber's life: the thread's ops, or a core panic that cut them short
// (nothing between owns resources that need unwinding).
void SimMachine::body(size_t thread) {
  if (setjmp(threads_[thread].panic_jmp) != 0) {
    replay_->thread_panicked(thread, platform_.panic_message().c_str());
    return;
  }
  replay_->thread_main(thread);
}

void SimMachine::begin_access(size_t thread, const replay::UserAccess& a) {
  Thread& t = threads_[thread];
  t.access =
      UserAccess{static_cast<UserAccessKind>(a.kind), a.addr, a.size, a.value, a.stride, a.count};
  t.context = machine_.prepare(t.access);
  // The stub page is user-visible in the emulated machine; an access there
  // is, by definition, one to the kernel half: a fault never run.
  t.reserved = machine_.reserved_range(a.addr, a.touch() ? 1 : a.size);
}

replay::AccessStop SimMachine::run_access(size_t thread, unsigned cpu, vm::AddressSpace& as) {
  Thread& t = threads_[thread];
  replay::AccessStop s;
  if (t.reserved) {
    s.kind = replay::AccessStop::Kind::kPageFault;
    s.fault_addr = t.access.addr;
    s.fault_write =
        t.access.kind == UserAccessKind::kStore || t.access.kind == UserAccessKind::kTouchStore;
    s.reserved = true;
    return s;
  }
  const Stop stop = machine_.run(cpu, as.pmap.root(), t.context);
  switch (stop.kind) {
    case StopKind::kDone:
      s.value = stop.value;
      break;
    case StopKind::kPageFault:
      s.kind = replay::AccessStop::Kind::kPageFault;
      s.fault_addr = stop.fault_addr;
      s.fault_write = stop.fault_write;
      break;
    case StopKind::kGeneralProtection:
      s.kind = replay::AccessStop::Kind::kGeneralProtection;
      s.fault_addr = t.context.rdi;  // the access address
      break;
  }
  return s;
}

void* SimMachine::allocate(size_t bytes) {
  memory_.push_back(std::make_unique<std::byte[]>(bytes));  // zeroed
  return memory_.back().get();
}

}  // namespace vmsim
