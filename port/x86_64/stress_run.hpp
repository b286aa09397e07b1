// What the stress workloads share: the core, the CPUs, the shared counters,
// the violations found, and user accesses that may race with other CPUs.
#pragma once

#include <stdint.h>

#include "lib/format.hpp"
#include "stress_config.hpp"
#include "stress_platform.hpp"
#include "sys/kernel.hpp"

namespace port {

struct StressCounters {
  uint64_t iterations = 0;    // rounds of the driving CPU
  uint64_t reads = 0;         // user loads that completed
  uint64_t reads_zero = 0;    // ... and found a page not written yet
  uint64_t writes = 0;        // user stores that completed
  uint64_t signals_segv = 0;  // accesses that ended with SIGSEGV
  uint64_t forks = 0;
  uint64_t snapshot_checks = 0;  // child pages compared with the fork-time bounds
  uint64_t paged_out = 0;        // frames vm_pageout freed (pageout-vs-write)
};

class StressRun {
 public:
  static constexpr unsigned kMaxViolations = 8;
  using Message = vm::FixedString<256>;

  StressRun(const StressConfig& config, vm::Kernel& kernel, StressPlatform& platform, unsigned cpus)
      : config(config), kernel(kernel), platform(platform), cpus(cpus) {}

  // Thread-safe; the first kMaxViolations are kept. Also tells every CPU to stop.
  void violation(const char* kind, const Message& message);
  bool stopping() const { return __atomic_load_n(&stop_, __ATOMIC_ACQUIRE) != 0; }
  void stop() { __atomic_store_n(&stop_, 1, __ATOMIC_RELEASE); }
  unsigned violation_count() const { return violation_count_; }
  const char* violation_kind(unsigned i) const { return kinds_[i]; }
  const char* violation_message(unsigned i) const { return messages_[i].c_str(); }

  void add(uint64_t* counter, uint64_t n = 1) { __atomic_add_fetch(counter, n, __ATOMIC_RELAXED); }

  const StressConfig& config;
  vm::Kernel& kernel;
  StressPlatform& platform;
  const unsigned cpus;  // CPUs running workers (all online ones)
  StressCounters counters;

 private:
  int lock_ = 0;
  uint32_t stop_ = 0;
  unsigned violation_count_ = 0;
  const char* kinds_[kMaxViolations] = {};
  Message messages_[kMaxViolations];
};

// How one 8-byte user access ended.
struct StressAccess {
  bool done = false;  // completed (value holds what a load read)
  bool segv = false;  // SIGSEGV: no mapping or no right to it
  uint64_t value = 0;
};

// One aligned 8-byte load or store in ring 3 on `as`'s page tables from this
// CPU, faulting through vm_fault as often as other CPUs make it necessary.
// Anything but completion or SIGSEGV is reported as a violation (done and
// segv both false).
StressAccess stress_access(StressRun& run, vm::AddressSpace& as, bool store, uint64_t addr,
                           uint64_t value);

// Puts this CPU in `as`'s active set (under its map lock, so no shootdown
// in flight misses it) before the first access to it.
void stress_activate(StressRun& run, vm::AddressSpace& as);

// The workloads: set up on the BSP, run on every CPU at once, checked on the
// BSP once all have returned.
struct StressWorkloadOps {
  bool (*setup)(StressRun& run);
  void (*worker)(StressRun& run, unsigned cpu);
  void (*check)(StressRun& run);
};
const StressWorkloadOps& munmap_vs_access_workload();
const StressWorkloadOps& fork_cow_workload();
const StressWorkloadOps& pageout_vs_write_workload();

}  // namespace port
