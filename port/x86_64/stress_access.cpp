// User accesses in stress mode: as the replay engine's (engine/replay/user_access.cpp), but another
// CPU may unmap, remap or write-protect the page between the fault and the retry, so a fault
// resolved again and again is normal up to a generous bound.
#include "cpu.hpp"
#include "lib/mutex.hpp"
#include "locker.hpp"
#include "percpu.hpp"
#include "stress_run.hpp"
#include "user.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_map.hpp"

namespace port {
namespace {

constexpr int kMaxRetries = 100000;

}  // namespace

void StressRun::violation(const char* kind, const Message& message) {
  while (__atomic_exchange_n(&lock_, 1, __ATOMIC_ACQUIRE) != 0) cpu_relax();
  if (violation_count_ < kMaxViolations) {
    kinds_[violation_count_] = kind;
    messages_[violation_count_] = message;
    ++violation_count_;
  }
  __atomic_store_n(&lock_, 0, __ATOMIC_RELEASE);
  stop();
}

void stress_activate(StressRun& run, vm::AddressSpace& as) {
  vm::MutexLocker lock(run.platform, as.lock);
  as.pmap.activate(percpu()->index);
}

StressAccess stress_access(StressRun& run, vm::AddressSpace& as, bool store, uint64_t addr,
                           uint64_t value) {
  StressAccess out;
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    // Interrupts stay off from the CR3 check to the end of the excursion: a
    // full-flush IPI for this root switches CR3 away (smp.cpp).
    irq_disable();
    if (read_cr3() != as.pmap.root()) write_cr3(as.pmap.root());
    const Stop stop = user_access_once(store, addr, 8, value);
    irq_enable();
    if (stop.kind == StopKind::kDone) {
      out.done = true;
      out.value = stop.value;
      run.add(store ? &run.counters.writes : &run.counters.reads);
      return out;
    }
    if (stop.kind == StopKind::kGeneralProtection) {
      StressRun::Message m;
      m << (store ? "store" : "load") << " at " << vm::Hex{addr} << ": general protection fault";
      run.violation("unexpected-fault", m);
      return out;
    }
    const vm::Access kind = stop.fault_write ? vm::Access::kWrite : vm::Access::kRead;
    const vm::FaultResult r = vm::vm_fault(run.kernel.vm, as, stop.fault_addr, kind);
    if (r == vm::FaultResult::kSegv) {
      out.segv = true;
      run.add(&run.counters.signals_segv);
      return out;
    }
    if (r != vm::FaultResult::kResolved) {
      StressRun::Message m;
      m << (store ? "store" : "load") << " at " << vm::Hex{addr} << " on CPU " << percpu()->index
        << ": the fault handler returned " << static_cast<int>(r)
        << " (out of memory or bus error)";
      run.violation("unexpected-fault", m);
      return out;
    }
  }
  StressRun::Message m;
  m << (store ? "store" : "load") << " at " << vm::Hex{addr} << " on CPU " << percpu()->index
    << " never completed: " << kMaxRetries << " faults resolved, the access still faults";
  run.violation("livelock", m);
  return out;
}

}  // namespace port
