// Which stress workload to run and how much of it, from the kernel command
// line (QEMU -append): `stress=NAME iterations=N pages=N`. Without `stress=`
// the kernel replays the trace image as usual.
#pragma once

#include <stdint.h>

#include "multiboot.hpp"

namespace port {

// kStackOverflow is no workload but the guard pages' proof (kernel_va.hpp):
// a kernel thread recurses until it meets the guard below its stack, and the
// run must end in a panic that says so.
enum class StressWorkload : uint8_t { kMunmapVsAccess, kForkCow, kPageoutVsWrite, kStackOverflow };

struct StressConfig {
  StressWorkload workload = StressWorkload::kMunmapVsAccess;
  const char* name = "";
  uint64_t iterations = 100;  // rounds of the driving CPU (CPU 0)
  uint64_t pages = 16;        // pages of the shared region
  // `bug=no-shootdown`: other CPUs' TLBs are never invalidated, to show the
  // workloads catch a missing shootdown (the run must end in a violation).
  bool no_shootdown = false;
};

// True when the command line asks for stress mode; fills `out`, or refuses
// the boot (exit 37) on an unknown workload or a malformed value.
bool stress_requested(const MultibootInfo* mbi, StressConfig* out);

}  // namespace port
