// The core's platform seam for the SMP stress mode: every CPU runs core code
// at once, so the core's locks are real spin locks (taken with interrupts on,
// so a CPU waiting for a lock still answers shootdown IPIs), yield points do
// nothing, and a sleep on a busy page is a short spin before the caller
// looks again.
#pragma once

#include "platform.hpp"
#include "swap_device.hpp"

namespace port {

class StressPlatform final : public vm::Platform {
 public:
  StressPlatform();

  void tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t root, vm::vaddr_t va) override;
  void tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t root) override;
  unsigned current_cpu() override;
  void yield(vm::YieldPoint) override {}
  void lock_acquire(vm::Mutex& m) override { lock(m); }
  void lock_release(vm::Mutex& m) override { unlock(m); }
  bool lock_try_acquire(vm::Mutex& m) override;
  void leaf_acquire(vm::Mutex& m) override { lock(m); }
  void leaf_release(vm::Mutex& m) override { unlock(m); }
  void wait_for(const void* channel, const char* what) override;
  void wake(const void*) override {}
  void disk_read(vm::u32, vm::u64, vm::u8*) override { no_disk(); }
  void disk_write(vm::u32, vm::u64, const vm::u8*) override { no_disk(); }
  void disk_truncate(vm::u32, vm::u64) override { no_disk(); }
  void disk_zero_page_tail(vm::u32, vm::u64) override { no_disk(); }
  // Swap only where a workload gave the machine some (set_swap).
  void swap_read(vm::u64 slot, vm::u8* buf4096) override;
  void swap_write(vm::u64 slot, const vm::u8* buf4096) override;
  void set_swap(SwapDevice* swap) { swap_ = swap; }
  vm::paddr_t kernel_root() override;
  void log(const char* message) override;
  [[noreturn]] void panic(const char* message) override;

  // Once set, a CPU spinning for a lock or an acknowledgment gives up and
  // unwinds to its worker (a panic elsewhere may have left a lock held).
  // The stress mode's mutation switch (StressConfig::no_shootdown).
  void skip_remote_shootdowns() { skip_remote_ = true; }

  void abort_all() { __atomic_store_n(&aborted_, 1, __ATOMIC_RELEASE); }
  bool aborted() const { return __atomic_load_n(&aborted_, __ATOMIC_ACQUIRE) != 0; }

  vm::u64 page_invalidations() const { return page_invalidations_; }
  vm::u64 full_flushes() const { return full_flushes_; }
  vm::u64 shootdown_ipis() const { return ipis_; }
  vm::u64 lock_contended() const { return contended_; }

 private:
  void lock(vm::Mutex& m);
  void unlock(vm::Mutex& m);
  [[noreturn]] void no_disk();
  void check_abort();
  // Sends one shootdown to physical CPU `cpu` (never this one).
  void remote(unsigned cpu, vm::paddr_t root, vm::vaddr_t va, bool all);

  // Panics (a core panic) unless `slot` is one of the swap device's.
  void check_slot(vm::u64 slot, const char* what);

  SwapDevice* swap_ = nullptr;
  vm::u32 aborted_ = 0;
  bool skip_remote_ = false;
  vm::u64 page_invalidations_ = 0;
  vm::u64 full_flushes_ = 0;
  vm::u64 ipis_ = 0;
  vm::u64 contended_ = 0;
};

// The value kjmp_long passes to a worker whose CPU gave up after abort_all().
inline constexpr int kStressAbandoned = 2;

}  // namespace port
