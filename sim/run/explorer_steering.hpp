// An explorer steering a replay (docs/explore.md): the engine asks the
// explorer's ScheduleController at every scheduling point instead of the
// trace's schedule, and this observer records what each segment touched
// (its Footprint) so the explorer can tell which choices commute.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "replay/replay.hpp"
#include "run/schedule_control.hpp"
#include "run/sim_platform.hpp"

namespace vmsim {

class ExplorerSteering final : public replay::Chooser,
                               public replay::Observer,
                               public PlatformWatcher {
 public:
  ExplorerSteering(ScheduleController& controller, replay::Replay& replay, SimPlatform& platform,
                   uint64_t memory);

  // replay::Chooser
  size_t choose(const replay::SchedulePoint& sp) override;
  void segment_done(size_t thread) override { controller_.segment_done(thread, footprint_); }

  // replay::Observer
  void segment_begin(size_t thread) override;
  void op_begin(size_t thread, size_t op, uint64_t addr) override;
  void op_end(size_t thread, size_t op, const replay::Outcome& outcome) override;
  void forked(size_t thread, uint32_t child) override;
  void fault_begin(size_t thread, vm::AddressSpace& as, uint64_t addr, bool write) override;
  void fault_end(size_t thread, const replay::UserAccess& a, uint64_t addr, vm::FaultResult r,
                 bool others_ran) override;
  void access_done(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) override;

  // PlatformWatcher
  void lock_taken(const vm::Mutex& m) override;
  void blocking(const void* channel) override;
  void waking(const void* channel) override;

 private:
  uint64_t family_resource(size_t thread) const;
  uint64_t channel_resource(const void* channel) const;

  ScheduleController& controller_;
  replay::Replay& replay_;
  SimPlatform& platform_;
  uint64_t memory_;
  size_t points_ = 0;
  SchedulingPoint point_;  // reused: its vector keeps its storage
  Footprint footprint_;    // of the segment running now
  // By thread: the file a fault in flight works on (0: none); it stays in
  // every segment the fault spans.
  std::vector<uint64_t> fault_file_;
  // By process index: the first process of its fork family.
  std::vector<uint32_t> family_;
};

}  // namespace vmsim
