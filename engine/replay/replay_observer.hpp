// What a machine may attach to a replay to watch it (docs/layout.md): the
// simulator's history for the linearizability check, its shadow TLB, the
// explorer's footprints and the timeline are observers; the port attaches
// none. Every hook has an empty default. An observer that finds a violation
// reports it through Replay::add_violation (and Replay::abort to end the run).
#pragma once

#include "lib/types.hpp"
#include "lib/yield_point.hpp"
#include "replay/op_outcome.hpp"
#include "replay/replay_machine.hpp"
#include "vm/vm_fault.hpp"

namespace replay {

class Observer {
 public:
  // Thread `thread` is about to run a segment (from one scheduling point to
  // the next).
  virtual void segment_begin(size_t thread) { (void)thread; }
  // The running thread stops at a yield point.
  virtual void yield_point(size_t thread, vm::YieldPoint point) {
    (void)thread;
    (void)point;
  }

  // Op `op` of `thread` starts; `addr` is its address operand, resolved.
  virtual void op_begin(size_t thread, size_t op, u64 addr) {
    (void)thread;
    (void)op;
    (void)addr;
  }
  // ... returned `outcome` (before the trace's own assertions are checked).
  virtual void op_end(size_t thread, size_t op, const Outcome& outcome) {
    (void)thread;
    (void)op;
    (void)outcome;
  }
  // ... and met the trace's own assertions.
  virtual void op_passed(size_t thread, size_t op, const Outcome& outcome) {
    (void)thread;
    (void)op;
    (void)outcome;
  }
  // A fork by `thread` created process `child` (an image process index).
  virtual void forked(size_t thread, u32 child) {
    (void)thread;
    (void)child;
  }

  // Trace CPU `cpu` now runs the address space rooted at `root`.
  virtual void cpu_switched(unsigned cpu, u64 root) {
    (void)cpu;
    (void)root;
  }
  // A user access starts, in `as`; false ends the op (a violation was added).
  virtual bool access_begin(size_t thread, vm::AddressSpace& as, const UserAccess& a) {
    (void)thread;
    (void)as;
    (void)a;
    return true;
  }
  // Other threads ran while the access was stopped in a fault; false ends it.
  virtual bool access_resumed(size_t thread, vm::AddressSpace& as, const UserAccess& a) {
    return access_begin(thread, as, a);
  }
  // The access completed.
  virtual void access_done(size_t thread, vm::AddressSpace& as, const UserAccess& a) {
    (void)thread;
    (void)as;
    (void)a;
  }
  // The access faulted at `addr`; the fault handler runs next.
  virtual void fault_begin(size_t thread, vm::AddressSpace& as, u64 addr, bool write) {
    (void)thread;
    (void)as;
    (void)addr;
    (void)write;
  }
  // The fault handler answered; `others_ran`: other threads ran meanwhile.
  virtual void fault_end(size_t thread, const UserAccess& a, u64 addr, vm::FaultResult r,
                         bool others_ran) {
    (void)thread;
    (void)a;
    (void)addr;
    (void)r;
    (void)others_ran;
  }

  // The run reached its end with this state digest (before the leak check).
  virtual void finished(const char* digest) { (void)digest; }

 protected:
  ~Observer() = default;
};

}  // namespace replay
