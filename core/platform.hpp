// The platform seam: everything machine-specific the VM core needs, and the
// only way the core reaches a machine. The simulator (sim/) and the
// bare-metal port (port/x86_64/) each implement it; core/ includes nothing
// from either.
#pragma once

#include "lib/thread_annotations.hpp"
#include "lib/types.hpp"
#include "lib/write_guard.hpp"
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

// Declared a capability here too, so the lock functions below can be
// annotated before lib/mutex.hpp defines it.
class CAPABILITY("mutex") Mutex;

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

  // A sleeping lock. Holding one that lives inside a slab object is that
  // object's USE() under slab sanity (lib/write_guard.hpp): the lock word is
  // written here, and the holder may change every field the lock guards.
  void mutex_lock(Mutex& m) ACQUIRE(m) {
    use_begin(&m);
    lock_acquire(m);
  }
  void mutex_unlock(Mutex& m) RELEASE(m) {
    lock_release(m);
    use_end(&m);
  }
  // Takes `m` if nobody (the caller included) holds it; never waits.
  // Pageout locks its victims' objects this way: it runs for a thread that
  // may hold other locks, in any order.
  bool mutex_trylock(Mutex& m) TRY_ACQUIRE(true, m) {
    use_begin(&m);
    if (lock_try_acquire(m)) return true;
    use_end(&m);
    return false;
  }

  // Checks the caller's contract "`m` is held" (docs/locking.md): in the
  // simulator a lock the running thread does not hold is a panic; in the
  // port's build (VM_WITHOUT_LOCK_ASSERTS) the call is compiled out. For the
  // thread-safety analysis `m` is held from here on, which is how a function
  // that cannot name its lock statically (one reached through a flag or a
  // chain) states what it relies on.
  void assert_held(const Mutex& m) ASSERT_CAPABILITY(m) {
#ifdef VM_WITHOUT_LOCK_ASSERTS
    (void)m;
#else
    check_held(m);
#endif
  }

  // A leaf lock guards a shared allocator or list for a few instructions:
  // nothing under it blocks, yields or takes a sleeping lock. Where one
  // thread runs at a time between yield points (the simulator, the port's
  // deterministic mode) nothing can contend for it, so the default is free
  // (the simulator only tells its explorer what was taken); the port's SMP
  // stress mode spins on it for real.
  void leaf_lock(Mutex& m) ACQUIRE(m) {
    use_begin(&m);
    leaf_acquire(m);
  }
  void leaf_unlock(Mutex& m) RELEASE(m) {
    leaf_release(m);
    use_end(&m);
  }

  // Sleep until wake(channel) (BSD's tsleep/wakeup): the caller holds no
  // lock and re-checks its condition afterwards, since a wakeup may be for
  // another waiter. `what` says what is awaited (for deadlock reports). A
  // machine without other threads returns at once; callers then spin.
  virtual void wait_for(const void* channel, const char* what) {
    (void)channel;
    (void)what;
  }
  virtual void wake(const void* channel) {
    (void)channel;
  }

  // The running thread reads or changes shared state that no lock it holds
  // orders against other threads: a reference or shadow count, a busy word,
  // a reverse-map count, a frame's bytes, a pmap's entries (which the CPUs'
  // page walkers read and mark without any lock). `what` names it by the
  // lock that guards the rest of its structure (an object's lock) or by the
  // structure itself (a page descriptor, a pmap). A machine that explores
  // interleavings counts it as a write of that resource (docs/explore.md,
  // footprints); the others ignore it.
  virtual void touched(const void* what) {
    (void)what;
  }

  // The disk that holds the files, page by page. Bytes the disk never held
  // (past what was written, or truncated away) read as zero.
  virtual void disk_read(u32 file, u64 page, u8* buf4096) = 0;
  virtual void disk_write(u32 file, u64 page, const u8* buf4096) = 0;
  // Every byte at or past `size` of `file` becomes zero (the blocks past
  // the end are freed).
  virtual void disk_truncate(u32 file, u64 size) = 0;
  // The bytes from `size` to the end of the page holding it become zero;
  // nothing past that page changes.
  virtual void disk_zero_page_tail(u32 file, u64 size) = 0;

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
  virtual void frame_freed(paddr_t pa) {
    (void)pa;
  }

  // Whether every RAM frame past the page array reads zero when the core
  // boots, so that the page allocator need not clear a frame at its first
  // allocation (FreeBSD's PG_ZERO). Only a machine that zeroes its RAM
  // before each boot says so; a real machine's RAM holds what it held.
  virtual bool ram_zero_at_boot() {
    return false;
  }

  // Slab sanity (vm/slab_sanity.hpp): makes frame `pa` read-only or
  // writable again for the core itself, so that a write to it without USE()
  // traps. Only a machine that can (can_protect_frames) is ever asked.
  virtual bool can_protect_frames() {
    return false;
  }
  virtual void protect_frame(paddr_t pa, bool writable) {
    (void)pa;
    (void)writable;
  }
  virtual void log(const char* message) = 0;
  [[noreturn]] virtual void panic(const char* message) = 0;

 protected:
  ~Platform() = default;

  // The machine's lock operations behind mutex_lock ... leaf_unlock.
  virtual void lock_acquire(Mutex& m) ACQUIRE(m) = 0;
  virtual void lock_release(Mutex& m) RELEASE(m) = 0;
  virtual bool lock_try_acquire(Mutex& m) TRY_ACQUIRE(true, m) = 0;
  // (Not analysed: the default takes nothing, by design.)
  virtual void leaf_acquire(Mutex& m) ACQUIRE(m) NO_THREAD_SAFETY_ANALYSIS {
    (void)m;
  }
  virtual void leaf_release(Mutex& m) RELEASE(m) NO_THREAD_SAFETY_ANALYSIS {
    (void)m;
  }

  // Panics unless the running thread holds `m` (a sleeping lock, taken with
  // mutex_lock). The default trusts the caller: a machine that keeps no
  // owner (the unit tests' fake) checks nothing.
  virtual void check_held(const Mutex& m) {
    (void)m;
  }

 private:
  static void use_begin(const void* p) {
    if (active_write_guard != nullptr) active_write_guard->open(p);
  }
  static void use_end(const void* p) {
    if (active_write_guard != nullptr) active_write_guard->close(p);
  }

  u8* phys_base_;
};

}  // namespace vm
