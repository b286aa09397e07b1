#include "stress_platform.hpp"

#include "console.hpp"
#include "core_panic.hpp"
#include "cpu.hpp"
#include "lib/mutex.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "smp.hpp"

namespace port {
namespace {

// smp.cpp keeps one shootdown request per target CPU: senders to the same
// target take turns. Waiting for the turn, and then for the acknowledgment,
// happens with interrupts on, so two CPUs shooting at each other both answer.
int target_turn[kMaxPhysCpus];

void count(vm::u64* counter) {
  __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

}  // namespace

StressPlatform::StressPlatform() : Platform(phys_to_virt<vm::u8>(0)) {}

void StressPlatform::check_abort() {
  if (!aborted()) return;
  PerCpu* pc = percpu();
  if (pc->panic_jmp == nullptr) return;
  KJmpBuf* target = pc->panic_jmp;
  pc->panic_jmp = nullptr;
  kjmp_long(target, kStressAbandoned);
}

bool StressPlatform::lock_try_acquire(vm::Mutex& m) {
  vm::u32 expected = vm::Mutex::kUnowned;
  return __atomic_compare_exchange_n(&m.owner, &expected, percpu()->index + 1, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void StressPlatform::lock(vm::Mutex& m) {
  const vm::u32 me = percpu()->index + 1;
  vm::u32 expected = vm::Mutex::kUnowned;
  if (__atomic_compare_exchange_n(&m.owner, &expected, me, false, __ATOMIC_ACQUIRE,
                                  __ATOMIC_RELAXED))
    return;
  if (expected == me) {
    vm::FixedString<128> msg;
    msg << "lock \"" << m.name() << "\" taken while already held";
    panic(msg.c_str());
  }
  count(&contended_);
  for (;;) {
    while (__atomic_load_n(&m.owner, __ATOMIC_RELAXED) != vm::Mutex::kUnowned) {
      cpu_relax();
      check_abort();
    }
    expected = vm::Mutex::kUnowned;
    if (__atomic_compare_exchange_n(&m.owner, &expected, me, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
  }
}

void StressPlatform::unlock(vm::Mutex& m) {
  if (__atomic_load_n(&m.owner, __ATOMIC_RELAXED) != percpu()->index + 1) {
    vm::FixedString<128> msg;
    msg << "lock \"" << m.name() << "\" released by a CPU not holding it";
    panic(msg.c_str());
  }
  __atomic_store_n(&m.owner, vm::Mutex::kUnowned, __ATOMIC_RELEASE);
}

// Callers re-check their condition in a loop: a short pause is enough, the
// holder of the busy page runs on another CPU.
void StressPlatform::wait_for(const void*, const char*) {
  for (int i = 0; i < 64; ++i) cpu_relax();
  check_abort();
}

void StressPlatform::remote(unsigned cpu, vm::paddr_t root, vm::vaddr_t va, bool all) {
  if (skip_remote_) return;
  int* turn = &target_turn[cpu];
  while (__atomic_exchange_n(turn, 1, __ATOMIC_ACQUIRE) != 0) {
    cpu_relax();
    check_abort();
  }
  count(&ipis_);
  shootdown(cpu, root, va, all);
  __atomic_store_n(turn, 0, __ATOMIC_RELEASE);
}

// Logical CPU k is physical CPU k in stress mode.
void StressPlatform::tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t root, vm::vaddr_t va) {
  count(&page_invalidations_);
  const unsigned self = percpu()->index;
  for (unsigned p = 0; p < cpus_online(); ++p) {
    if (!cpus.has(p)) continue;
    if (p == self) {
      invlpg(va);
    } else {
      remote(p, root, va, false);
    }
  }
}

void StressPlatform::tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t root) {
  count(&full_flushes_);
  const unsigned self = percpu()->index;
  for (unsigned p = 0; p < cpus_online(); ++p) {
    if (!cpus.has(p)) continue;
    if (p == self) {
      flush_root_here(root);
    } else {
      remote(p, root, 0, true);
    }
  }
}

unsigned StressPlatform::current_cpu() {
  return percpu()->index;
}

void StressPlatform::no_disk() {
  panic("the stress workloads use no files: the disk was called");
}

void StressPlatform::check_slot(vm::u64 slot, const char* what) {
  if (swap_ != nullptr && slot < swap_->slots()) return;
  vm::FixedString<128> msg;
  msg << what << ": slot " << slot << " past the " << (swap_ ? swap_->slots() : 0)
      << " slots of the stress machine's swap";
  panic(msg.c_str());
}

// Each slot belongs to one page being paged out or in at a time (the core
// holds it busy), so only the written-slot bitmap is shared (atomic).
void StressPlatform::swap_read(vm::u64 slot, vm::u8* buf4096) {
  check_slot(slot, "swap_read");
  swap_->read(slot, buf4096);
}

void StressPlatform::swap_write(vm::u64 slot, const vm::u8* buf4096) {
  check_slot(slot, "swap_write");
  swap_->write(slot, buf4096);
}

vm::paddr_t StressPlatform::kernel_root() {
  return kernel_root_phys();
}

void StressPlatform::log(const char* message) {
  core_log(message);
}

void StressPlatform::panic(const char* message) {
  core_panic(message);
}

}  // namespace port
