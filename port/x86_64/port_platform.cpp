#include "port_platform.hpp"

#include "console.hpp"
#include "core_panic.hpp"
#include "cpu.hpp"
#include "lib/mutex.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "slab_protection.hpp"
#include "smp.hpp"

namespace port {

PortPlatform::PortPlatform(Disk& disk, SwapDevice& swap, unsigned machine_cpus)
    : FileDiskPlatform(phys_to_virt<vm::u8>(0), disk), swap_(swap), machine_cpus_(machine_cpus) {}

unsigned PortPlatform::physical_cpu(unsigned logical) {
  return logical % cpus_online();
}

vm::u64 PortPlatform::physical_targets(vm::CpuSet cpus, vm::u64* counter) {
  vm::u64 mask = 0;
  for (unsigned cpu = 0; cpu < machine_cpus_; ++cpu) {
    if (!cpus.has(cpu)) continue;
    ++*counter;  // counted per logical CPU, as the simulator does
    mask |= vm::u64{1} << physical_cpu(cpu);
  }
  return mask;
}

void PortPlatform::tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t root, vm::vaddr_t va) {
  const vm::u64 mask = physical_targets(cpus, &page_invalidations_);
  const unsigned self = percpu()->index;
  for (unsigned p = 0; p < cpus_online(); ++p) {
    if (((mask >> p) & 1) == 0) continue;
    if (p == self) {
      invlpg(va);
    } else {
      shootdown(p, root, va, false);
    }
  }
}

void PortPlatform::tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t root) {
  const vm::u64 mask = physical_targets(cpus, &full_flushes_);
  const unsigned self = percpu()->index;
  for (unsigned p = 0; p < cpus_online(); ++p) {
    if (((mask >> p) & 1) == 0) continue;
    if (p == self) {
      flush_root_here(root);
    } else {
      shootdown(p, root, 0, true);
    }
  }
}

unsigned PortPlatform::current_cpu() {
  return percpu()->logical;
}

void PortPlatform::yield(vm::YieldPoint point) {
  if (on_thread()) threads_->yield_point(point);
}

// On a trace thread a held lock blocks it until the holder drops it (one
// thread runs at a time, so nobody takes it in between unseen). Off them
// (boot, the final checks) nothing else can be holding it: that is a bug.
void PortPlatform::lock_acquire(vm::Mutex& m) {
  const vm::u32 me = percpu()->thread + 1;
  const bool threaded = on_thread();
  for (;;) {
    vm::u32 expected = vm::Mutex::kUnowned;
    if (__atomic_compare_exchange_n(&m.owner, &expected, me, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
    if (expected == me || !threaded) {
      vm::FixedString<128> msg;
      msg << "lock \"" << m.name() << "\" taken while already held";
      panic(msg.c_str());
    }
    threads_->block(&m, m.name(), &m);
  }
}

bool PortPlatform::lock_try_acquire(vm::Mutex& m) {
  vm::u32 expected = vm::Mutex::kUnowned;
  return __atomic_compare_exchange_n(&m.owner, &expected, percpu()->thread + 1, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void PortPlatform::lock_release(vm::Mutex& m) {
  if (m.owner != percpu()->thread + 1) {
    vm::FixedString<128> msg;
    msg << "lock \"" << m.name() << "\" released by a thread not holding it";
    panic(msg.c_str());
  }
  __atomic_store_n(&m.owner, vm::Mutex::kUnowned, __ATOMIC_RELEASE);
  if (threads_ != nullptr) threads_->wake(&m);
}

void PortPlatform::wait_for(const void* channel, const char* what) {
  if (!on_thread()) {
    vm::FixedString<128> msg;
    msg << "sleep on " << what << " outside a thread: nothing could wake it";
    panic(msg.c_str());
  }
  threads_->block(channel, what, nullptr);
}

void PortPlatform::wake(const void* channel) {
  if (threads_ != nullptr) threads_->wake(channel);
}

// The core hands out only slots of machine.swap: another is its bug.
void PortPlatform::check_slot(vm::u64 slot, const char* what) {
  if (slot < swap_.slots()) return;
  vm::FixedString<128> msg;
  msg << what << ": slot " << slot << " past the " << swap_.slots() << " slots of machine.swap";
  panic(msg.c_str());
}

void PortPlatform::swap_read(vm::u64 slot, vm::u8* buf4096) {
  check_slot(slot, "swap_read");
  swap_.read(slot, buf4096);
}

void PortPlatform::swap_write(vm::u64 slot, const vm::u8* buf4096) {
  check_slot(slot, "swap_write");
  swap_.write(slot, buf4096);
}

vm::paddr_t PortPlatform::kernel_root() {
  return kernel_root_phys();
}

bool PortPlatform::can_protect_frames() {
  return slab_protection_prepared();
}

void PortPlatform::protect_frame(vm::paddr_t pa, bool writable) {
  direct_map_set_writable(pa, writable);
}

void PortPlatform::log(const char* message) {
  core_log(message);
}

void PortPlatform::panic(const char* message) {
  core_panic(message);
}

}  // namespace port
