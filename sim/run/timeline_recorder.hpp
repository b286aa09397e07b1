// The timeline (`--timeline FILE`, docs/timeline.md) as a replay observer:
// segments, ops, yield points, faults and shootdowns as Chrome trace events.
#pragma once

#include <cstdint>
#include <optional>

#include "replay/replay.hpp"
#include "run/sim_platform.hpp"
#include "run/timeline.hpp"
#include "trace/trace.hpp"
#include "vm/vm.hpp"

namespace vmsim {

class TimelineRecorder final : public replay::Observer, public PlatformWatcher {
 public:
  TimelineRecorder(const Trace& trace, Timeline& timeline, SimPlatform& platform, vm::Vm& vm)
      : trace_(trace), timeline_(timeline), platform_(platform), vm_(vm) {}

  // replay::Observer
  void segment_begin(size_t thread) override { timeline_.switch_to(cpu(thread), thread); }
  void yield_point(size_t thread, vm::YieldPoint point) override;
  void op_begin(size_t thread, size_t op, uint64_t addr) override;
  void op_end(size_t thread, size_t op, const replay::Outcome& outcome) override;
  void fault_begin(size_t thread, vm::AddressSpace& as, uint64_t addr, bool write) override;
  void fault_end(size_t thread, const replay::UserAccess& a, uint64_t addr, vm::FaultResult r,
                 bool others_ran) override;

  // PlatformWatcher
  void invalidated(vm::CpuSet cpus, uint64_t root, std::optional<uint64_t> va) override;

 private:
  uint32_t cpu(size_t thread) const { return trace_.threads[thread].cpu; }

  const Trace& trace_;
  Timeline& timeline_;
  SimPlatform& platform_;
  vm::Vm& vm_;  // read after each op for the memory counters
};

}  // namespace vmsim
