#include "run/timeline_recorder.hpp"

#include "run/op_outcome.hpp"
#include "sched/yield_point_named.hpp"

namespace vmsim {
namespace {

const char* fault_result_name(vm::FaultResult r) {
  switch (r) {
    case vm::FaultResult::kResolved:
      return "resolved";
    case vm::FaultResult::kSegv:
      return "segv";
    case vm::FaultResult::kBus:
      return "bus";
    case vm::FaultResult::kNoMem:
      return "no memory";
  }
  return "?";
}

}  // namespace

void TimelineRecorder::yield_point(size_t thread, vm::YieldPoint point) {
  timeline_.yield_point(cpu(thread), thread, replay::yield_point_name(point));
}

void TimelineRecorder::op_begin(size_t thread, size_t op, uint64_t) {
  timeline_.op_begin(cpu(thread), thread, op, describe_op(trace_.threads[thread].ops[op]));
}

void TimelineRecorder::op_end(size_t thread, size_t op, const replay::Outcome& o) {
  timeline_.op_end(cpu(thread), thread, op,
                   o.signal != vm::Signal::kNone ? signal_name(o.signal) : status_name(o.status));
  Timeline::MemorySample m;
  m.free_frames = vm_.pages.stats().free_frames;
  m.resident_user_pages = vm_.stats.resident_user.load();
  m.swap_slots = vm_.swap.in_use();
  m.compressor_bytes = vm_.compressor.held_bytes();
  timeline_.memory(m);
}

void TimelineRecorder::fault_begin(size_t thread, vm::AddressSpace&, uint64_t addr, bool write) {
  timeline_.fault_begin(cpu(thread), thread, addr, write);
}

void TimelineRecorder::fault_end(size_t thread, const replay::UserAccess&, uint64_t,
                                 vm::FaultResult r, bool) {
  timeline_.fault_end(cpu(thread), thread, fault_result_name(r));
}

void TimelineRecorder::invalidated(vm::CpuSet cpus, uint64_t, std::optional<uint64_t> va) {
  timeline_.shootdown(platform_.current_cpu(), cpus.bits(), va);
}

}  // namespace vmsim
