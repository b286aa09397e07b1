#include "run/sim_platform.hpp"

#include <cstdio>
#include <cstdlib>

#include "lib/format.hpp"
#include "lib/mutex.hpp"

namespace vmsim {

SimPlatform::SimPlatform(Machine& machine, SimDisk& disk)
    : Platform(machine.phys_base()), machine_(machine), disk_(disk) {}

void SimPlatform::tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t, vm::vaddr_t va) {
  for (unsigned cpu = 0; cpu < machine_.cpus(); ++cpu) {
    if (!cpus.has(cpu)) continue;
    machine_.invalidate_page(cpu, va);
    ++page_invalidations_;
  }
}

void SimPlatform::tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t) {
  for (unsigned cpu = 0; cpu < machine_.cpus(); ++cpu) {
    if (!cpus.has(cpu)) continue;
    machine_.invalidate_all(cpu);
    ++full_flushes_;
  }
}

// Ops run whole in this milestone: there is no other thread to switch to.
void SimPlatform::yield(vm::YieldPoint) {}

// Ops run to completion one at a time, so a lock found held was never
// released: report it instead of waiting forever.
void SimPlatform::mutex_lock(vm::Mutex& m) {
  if (m.owner != vm::Mutex::kUnowned) {
    // No std::string here: panic() longjmps past this frame.
    vm::FixedString<128> msg;
    msg << "lock \"" << m.name() << "\" taken while already held";
    panic(msg.c_str());
  }
  m.owner = thread_ + 1;
}

void SimPlatform::mutex_unlock(vm::Mutex& m) {
  if (m.owner != thread_ + 1) {
    vm::FixedString<128> msg;
    msg << "lock \"" << m.name() << "\" released by a thread not holding it";
    panic(msg.c_str());
  }
  m.owner = vm::Mutex::kUnowned;
}

vm::paddr_t SimPlatform::kernel_root() {
  return machine_.kernel_root();
}

void SimPlatform::log(const char* message) {
  std::fprintf(stderr, "vmsim: core: %s\n", message);
}

void SimPlatform::panic(const char* message) {
  panic_message_ = message;
  if (panic_target_ == nullptr) {
    std::fprintf(stderr, "vmsim: core panic outside a run: %s\n", message);
    std::abort();
  }
  std::longjmp(*panic_target_, 1);
}

}  // namespace vmsim
