// A user access: the machine runs it on the thread's CPU, each #PF goes to
// the core's fault handler, and the access resumes until it completes or a
// signal ends it.
#include "replay/replay.hpp"
#include "sys/user_fault.hpp"
#include "vm/vm_fault.hpp"

namespace replay {

Outcome Replay::user_access(ThreadState& t, const UserAccess& access) {
  const unsigned cpu = t.spec->cpu;
  ++accesses_;
  Outcome out;
  machine_.begin_access(t.index, access);
  activate(cpu, *t.process->as);
  for (size_t i = 0; i < observer_count_; ++i)
    if (!observers_[i]->access_begin(t.index, *t.process->as, access)) return out;
  u64 checked_at = segments_;
  vm::UserFault faults;
  for (;;) {
    // The address space may have changed (exec) while the thread was
    // stopped in a fault: take it afresh each round.
    vm::AddressSpace& as = *t.process->as;
    activate(cpu, as);
    const AccessStop stop = machine_.run_access(t.index, cpu, as);
    if (stop.kind == AccessStop::Kind::kDone) {
      out.value = stop.value;
      for (size_t i = 0; i < observer_count_; ++i) observers_[i]->access_done(t.index, as, access);
      return out;
    }
    if (stop.kind == AccessStop::Kind::kGeneralProtection) {
      out.signal = vm::Signal::kSegv;  // a non-canonical address, as on Linux
      out.fault_addr = stop.fault_addr;
      return out;
    }
    for (size_t i = 0; i < observer_count_; ++i)
      observers_[i]->fault_begin(t.index, as, stop.fault_addr, stop.fault_write);
    const u64 segments_before = segments_;
    const vm::Access kind = stop.fault_write ? vm::Access::kWrite : vm::Access::kRead;
    const vm::FaultResult r = vm::vm_fault(kernel_.vm, as, stop.fault_addr, kind);
    for (size_t i = 0; i < observer_count_; ++i)
      observers_[i]->fault_end(t.index, access, stop.fault_addr, r, segments_ != segments_before);
    if (aborted_) return out;
    // Others ran while the fault was stopped: what this CPU caches may have
    // been invalidated, or should have been.
    if (segments_ != checked_at) {
      checked_at = segments_;
      for (size_t i = 0; i < observer_count_; ++i)
        if (!observers_[i]->access_resumed(t.index, *t.process->as, access)) return out;
    }
    out.signal = vm::UserFault::signal_for(r, stop.reserved);
    if (out.signal != vm::Signal::kNone) {
      out.fault_addr = stop.fault_addr;
      return out;
    }
    faults.resolved(kernel_.vm.platform, stop.fault_addr);
  }
}

// The CPU runs `as` now. A CR3 load drops every user translation (no PCID),
// so a CPU is in the active set of the one address space it runs: TLB
// shootdowns skip the others, which flush lazily when they switch to it.
void Replay::activate(unsigned cpu, vm::AddressSpace& as) {
  const u64 root = as.pmap.root();
  if (cpu_root_[cpu] != root) {
    for (vm::Process* p = kernel_.processes.front(); p != nullptr; p = kernel_.processes.next(p))
      p->as->pmap.deactivate(cpu);
    cpu_root_[cpu] = root;
    for (size_t i = 0; i < observer_count_; ++i) observers_[i]->cpu_switched(cpu, root);
  }
  // Also when the root is the same: a new address space may reuse the
  // frame of a destroyed one.
  as.pmap.activate(cpu);
}

}  // namespace replay
