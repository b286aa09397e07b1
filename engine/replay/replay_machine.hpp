// What the replay engine asks of the machine it runs on (docs/layout.md):
// how a trace thread runs and switches (a fiber in the simulator, a kernel
// thread on the port), how one user access runs on a CPU (the emulated
// MMU, or ring 3 on the real one), and memory for the engine's tables.
// Everything else about a run is the engine's.
#pragma once

#include "lib/types.hpp"
#include "vm/vm_map.hpp"

namespace replay {

using vm::u32;
using vm::u64;

enum class AccessKind : vm::u8 {
  kLoad,        // one load of `size` bytes at `addr`
  kStore,       // one store of `size` bytes of `value` at `addr`
  kTouchLoad,   // `count` 1-byte loads at addr, addr+stride, ...
  kTouchStore,  // `count` 1-byte stores of `value` at addr, addr+stride, ...
};

struct UserAccess {
  AccessKind kind = AccessKind::kLoad;
  u64 addr = 0;
  u32 size = 1;  // 1, 2, 4, 8 (loads and stores)
  u64 value = 0;
  u64 stride = 0;  // touches
  u64 count = 1;   // touches: steps; 1 for loads and stores

  bool store() const { return kind == AccessKind::kStore || kind == AccessKind::kTouchStore; }
  bool touch() const { return kind == AccessKind::kTouchLoad || kind == AccessKind::kTouchStore; }
};

// How an access run on a CPU stopped.
struct AccessStop {
  enum class Kind : vm::u8 { kDone, kPageFault, kGeneralProtection };
  Kind kind = Kind::kDone;
  u64 value = 0;       // kDone, a load: what it read
  u64 fault_addr = 0;  // kPageFault: CR2; kGeneralProtection: the access address
  bool fault_write = false;
  // kPageFault on the machine's own reserved page (its user stub page): an
  // access to the kernel half, never run, SIGSEGV whatever the core answers.
  bool reserved = false;
};

class Machine {
 public:
  // Runs trace thread `thread` until it suspends or its body ends. A thread
  // not started yet starts in Replay::thread_main(thread), which the machine
  // wraps to catch a core panic (Replay::thread_panicked). While it runs,
  // the platform knows it as the current thread on its trace CPU.
  virtual void resume(size_t thread) = 0;
  // From inside the running thread: back to resume()'s caller.
  virtual void suspend(size_t thread) = 0;

  // Thread `thread` starts user access `access` (nothing of it has run).
  virtual void begin_access(size_t thread, const UserAccess& access) = 0;
  // Runs the thread's access on trace CPU `cpu`, in `as`, from where it
  // stopped until it completes or faults. After a kPageFault the fault
  // handler ran and the access goes on with the next call.
  virtual AccessStop run_access(size_t thread, unsigned cpu, vm::AddressSpace& as) = 0;

  // Zeroed memory for the engine's tables, kept until the run is over.
  virtual void* allocate(size_t bytes) = 0;

  // Where the bytes of the trace's device `device` (an ImageDevice index)
  // are in physical memory: page-aligned frames outside the core's RAM that
  // the platform's physical window reaches and the CPUs can map (spec §10;
  // the simulator: the device's `phys`; the port: frames it set aside).
  virtual u64 device_phys(u32 device) = 0;

  // TLB invalidations the platform sent (the run's statistics).
  virtual u64 tlb_page_invalidations() const = 0;
  virtual u64 tlb_full_flushes() const = 0;

  // The first op of the run is about to start (the port's timing line).
  virtual void first_op() {}

 protected:
  ~Machine() = default;
};

}  // namespace replay
