// The simulator's implementation of the platform seam: TLB invalidation goes
// to the emulated CPUs' own TLBs, locks and sleeps block the calling trace
// thread (its fiber) so another can run, a core panic unwinds to the run
// loop.
#pragma once

#include <csetjmp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "disk/file_disk_platform.hpp"
#include "machine/machine.hpp"
#include "platform.hpp"
#include "replay/core_threads.hpp"
#include "run/frame_protection.hpp"
#include "run/sim_disk.hpp"

namespace vmsim {

// What the simulator's observers learn from the platform (the shadow TLB,
// the explorer's footprints, the timeline); yielding and blocking go to the
// replay engine (replay::CoreThreads).
class PlatformWatcher {
 public:
  virtual ~PlatformWatcher() = default;
  // The running thread took `m` (a resource for partial-order reduction).
  virtual void lock_taken(const vm::Mutex& m) { (void)m; }
  // ... released `m`; found `m` held by another thread (it blocks next).
  virtual void lock_released(const vm::Mutex& m) { (void)m; }
  virtual void lock_contended(const vm::Mutex& m) { (void)m; }
  // The running thread used shared state no lock orders (Platform::touched).
  virtual void touched(const void* what) { (void)what; }
  // The core invalidated translations on `cpus` (all of `root`'s when `va`
  // is empty).
  virtual void invalidated(vm::CpuSet cpus, uint64_t root, std::optional<uint64_t> va) {
    (void)cpus;
    (void)root;
    (void)va;
  }
  // The core freed a frame: no CPU may still translate to it.
  virtual void frame_freed(uint64_t pa) { (void)pa; }
  // The running thread is about to sleep on `channel` (a held lock, a busy
  // page), or wakes the sleepers on it (a lock dropped, a page unbusied).
  virtual void blocking(const void* channel) { (void)channel; }
  virtual void waking(const void* channel) { (void)channel; }
};

class SimPlatform final : public disk::FileDiskPlatform {
 public:
  SimPlatform(Machine& machine, SimDisk& disk);

  void tlb_invalidate_page(vm::CpuSet cpus, vm::paddr_t root, vm::vaddr_t va) override;
  void tlb_invalidate_all(vm::CpuSet cpus, vm::paddr_t root) override;
  unsigned current_cpu() override { return cpu_; }
  void yield(vm::YieldPoint point) override;
  void lock_acquire(vm::Mutex& m) override;
  void lock_release(vm::Mutex& m) override;
  bool lock_try_acquire(vm::Mutex& m) override;
  void leaf_acquire(vm::Mutex& m) override;
  void touched(const void* what) override;
  void wait_for(const void* channel, const char* what) override;
  void wake(const void* channel) override;
  void frame_freed(vm::paddr_t pa) override;
  // The core boots on a new machine or one MachineLease reset: RAM is zero.
  bool ram_zero_at_boot() override { return true; }
  bool can_protect_frames() override { return protection_ != nullptr; }
  void protect_frame(vm::paddr_t pa, bool writable) override { protection_->protect(pa, writable); }
  vm::paddr_t kernel_root() override;
  void swap_read(vm::u64 slot, vm::u8* buf) override { disk_.swap_read(slot, buf); }
  void swap_write(vm::u64 slot, const vm::u8* buf) override { disk_.swap_write(slot, buf); }
  void log(const char* message) override;
  [[noreturn]] void panic(const char* message) override;

  // Who runs core code now: the CPU, and the thread (for lock ownership).
  void set_current(unsigned cpu, uint32_t thread_index) {
    cpu_ = cpu;
    thread_ = thread_index;
  }

  void set_threads(replay::CoreThreads* threads) { threads_ = threads; }
  // Slab sanity (`--sanity`): let the core write-protect slab frames of RAM.
  // False when the host cannot (its pages are not 4 KiB).
  bool allow_frame_protection(vm::SlabSanity& sanity);
  void watch(PlatformWatcher& w) { watchers_.push_back(&w); }

  // Where a core panic returns to (the run loop's setjmp). While none is
  // armed a panic aborts the process: that is a bug in the simulator itself.
  void arm_panic(std::jmp_buf* target) { panic_target_ = target; }
  const std::string& panic_message() const { return panic_message_; }

  uint64_t tlb_page_invalidations() const { return page_invalidations_; }
  uint64_t tlb_full_flushes() const { return full_flushes_; }

 private:
  // Platform::assert_held: the running thread must own `m` (a lock taken by
  // another thread, or by nobody, is a panic naming it).
  void check_held(const vm::Mutex& m) override;

  Machine& machine_;
  SimDisk& disk_;
  std::unique_ptr<FrameProtection> protection_;
  replay::CoreThreads* threads_ = nullptr;
  std::vector<PlatformWatcher*> watchers_;
  unsigned cpu_ = 0;
  uint32_t thread_ = 0;
  std::jmp_buf* panic_target_ = nullptr;
  std::string panic_message_;
  uint64_t page_invalidations_ = 0;
  uint64_t full_flushes_ = 0;
};

}  // namespace vmsim
