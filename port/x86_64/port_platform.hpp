// The core's platform seam on bare metal: the physical window is the direct
// map, TLB invalidation is INVLPG here and IPIs elsewhere, the files are
// the engine's FileDisk (disk/file_disk_platform.hpp) and swap is kept in
// boot memory (swap_device.hpp). One trace thread runs at a time (the
// deterministic replay): a held lock or a sleep blocks the running thread
// and a yield point stops it, both through the replay engine
// (replay::CoreThreads), so the scheduler picks who runs.
#pragma once

#include "disk.hpp"
#include "disk/file_disk_platform.hpp"
#include "platform.hpp"
#include "replay/core_threads.hpp"
#include "swap_device.hpp"

namespace port {

class PortPlatform final : public disk::FileDiskPlatform {
 public:
  PortPlatform(Disk& disk, SwapDevice& swap, unsigned machine_cpus);

  void tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t root, vm::vaddr_t va) override;
  void tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t root) override;
  unsigned current_cpu() override;
  void yield(vm::YieldPoint point) override;
  void lock_acquire(vm::Mutex& m) override;
  void lock_release(vm::Mutex& m) override;
  bool lock_try_acquire(vm::Mutex& m) override;
  void wait_for(const void* channel, const char* what) override;
  void wake(const void* channel) override;
  void swap_read(vm::u64 slot, vm::u8* buf4096) override;
  void swap_write(vm::u64 slot, const vm::u8* buf4096) override;
  vm::paddr_t kernel_root() override;
  bool can_protect_frames() override;
  void protect_frame(vm::paddr_t pa, bool writable) override;
  void log(const char* message) override;
  [[noreturn]] void panic(const char* message) override;

  // The physical CPU that runs the trace's logical CPU `cpu`.
  static unsigned physical_cpu(unsigned logical);

  // The replay's threads; nullptr while none run (boot, the final checks).
  void set_threads(replay::CoreThreads* threads) { threads_ = threads; }

  vm::u64 tlb_page_invalidations() const { return page_invalidations_; }
  vm::u64 tlb_full_flushes() const { return full_flushes_; }

 private:
  // Physical CPUs that host any logical CPU of `cpus`, counting deliveries.
  vm::u64 physical_targets(vm::CpuSet cpus, vm::u64* counter);

  bool on_thread() const { return threads_ != nullptr && threads_->on_thread(); }

  // Panics (a core panic) unless `slot` is one of machine.swap's.
  void check_slot(vm::u64 slot, const char* what);

  SwapDevice& swap_;
  unsigned machine_cpus_;
  replay::CoreThreads* threads_ = nullptr;
  vm::u64 page_invalidations_ = 0;
  vm::u64 full_flushes_ = 0;
};

}  // namespace port
