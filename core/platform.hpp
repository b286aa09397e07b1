// The platform seam: everything machine-specific the VM core needs, and the
// only way the core reaches a machine. The simulator (sim/) and the
// bare-metal port (port/x86_64/) each implement it; core/ includes nothing
// from either.
#pragma once

#include "lib/types.hpp"
#include "lib/yield_point.hpp"

namespace vm {

// A set of simulated or real CPUs, at most 64.
class CpuSet {
 public:
  static constexpr unsigned kMaxCpus = 64;
  void add(unsigned cpu) { bits_ |= u64{1} << cpu; }
  void remove(unsigned cpu) { bits_ &= ~(u64{1} << cpu); }
  bool has(unsigned cpu) const { return (bits_ >> cpu) & 1; }
  bool empty() const { return bits_ == 0; }
  u64 bits() const { return bits_; }
  void merge(const CpuSet& o) { bits_ |= o.bits_; }
  void clear() { bits_ = 0; }

 private:
  u64 bits_ = 0;
};

class Mutex;

class Platform {
 public:
  // Physical memory is reachable through one linear window on both machines:
  // physical address `pa` is at `phys_base + pa`.
  explicit Platform(u8* phys_base) : phys_base_(phys_base) {}
  u8* phys(paddr_t pa) const { return phys_base_ + pa; }

  // Invalidate the translation of `va` in the address space rooted at `root`
  // on every CPU of `cpus`. Returns when every CPU has dropped it.
  virtual void tlb_invalidate_page(CpuSet cpus, paddr_t root, vaddr_t va) = 0;
  // Invalidate every non-global translation of `root` on `cpus` (also drops
  // paging-structure caches, as after freeing a page-table page).
  virtual void tlb_invalidate_all(CpuSet cpus, paddr_t root) = 0;

  virtual unsigned current_cpu() = 0;

  // A named place where a real kernel could be preempted or block; the
  // deterministic scheduler may switch threads here (docs/yield-points.md).
  virtual void yield(YieldPoint point) = 0;

  virtual void mutex_lock(Mutex& m) = 0;
  virtual void mutex_unlock(Mutex& m) = 0;
  // Takes `m` if nobody (the caller included) holds it; never waits.
  // Pageout locks its victims' objects this way: it runs for a thread that
  // may hold other locks, in any order.
  virtual bool mutex_trylock(Mutex& m) = 0;

  // A leaf lock guards a shared allocator or list for a few instructions:
  // nothing under it blocks, yields or takes a sleeping lock. Where one
  // thread runs at a time between yield points (the simulator, the port's
  // deterministic mode) nothing can contend for it, so the default is free
  // and the explorer sees no extra conflicts; the port's SMP stress mode
  // spins on it for real.
  virtual void leaf_lock(Mutex& m) { (void)m; }
  virtual void leaf_unlock(Mutex& m) { (void)m; }

  // Sleep until wake(channel) (BSD's tsleep/wakeup): the caller holds no
  // lock and re-checks its condition afterwards, since a wakeup may be for
  // another waiter. `what` says what is awaited (for deadlock reports). A
  // machine without other threads returns at once; callers then spin.
  virtual void wait_for(const void* channel, const char* what) {
    (void)channel;
    (void)what;
  }
  virtual void wake(const void* channel) { (void)channel; }

  // The disk that holds the files, page by page. Bytes the disk never held
  // (past what was written, or truncated away) read as zero.
  virtual void disk_read(u32 file, u64 page, u8* buf4096) = 0;
  virtual void disk_write(u32 file, u64 page, const u8* buf4096) = 0;
  // Every byte at or past `size` of `file` becomes zero.
  virtual void disk_truncate(u32 file, u64 size) = 0;

  // The swap device: `machine.swap` bytes, page-sized slots. The default
  // machine has none (the core never calls these without swap).
  virtual void swap_read(u64 slot, u8* buf4096) {
    (void)slot;
    (void)buf4096;
    panic("swap_read: this machine has no swap device");
  }
  virtual void swap_write(u64 slot, const u8* buf4096) {
    (void)slot;
    (void)buf4096;
    panic("swap_write: this machine has no swap device");
  }

  // PML4 whose upper half (entries 256..511, the kernel half) every new
  // address space copies; 0 when the machine maps nothing there.
  virtual paddr_t kernel_root() = 0;

  // The page allocator took frame `pa` back. Not pure: only a machine that
  // checks the unhook → invalidate → free order (the simulator's shadow TLB
  // asks whether some CPU still caches a translation to it) needs to know.
  virtual void frame_freed(paddr_t pa) { (void)pa; }

  virtual void log(const char* message) = 0;
  [[noreturn]] virtual void panic(const char* message) = 0;

 protected:
  ~Platform() = default;

 private:
  u8* phys_base_;
};

}  // namespace vm
