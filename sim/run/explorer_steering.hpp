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
  void segment_done(size_t thread) override;

  // replay::Observer
  void segment_begin(size_t thread) override;
  void op_begin(size_t thread, size_t op, uint64_t addr) override;
  void op_end(size_t thread, size_t op, const replay::Outcome& outcome) override;
  void fault_begin(size_t thread, vm::AddressSpace& as, uint64_t addr, bool write) override;
  void fault_end(size_t thread, const replay::UserAccess& a, uint64_t addr, vm::FaultResult r,
                 bool others_ran) override;
  bool access_begin(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) override;
  bool access_resumed(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) override;
  void access_done(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a) override;
  void cpu_switched(unsigned cpu, uint64_t root) override;

  // PlatformWatcher
  void lock_taken(const vm::Mutex& m) override;
  void lock_released(const vm::Mutex& m) override;
  void lock_contended(const vm::Mutex& m) override;
  void touched(const void* what) override;
  void invalidated(vm::CpuSet cpus, uint64_t root, std::optional<uint64_t> va) override;
  void frame_freed(uint64_t pa) override;
  void blocking(const void* channel) override;
  void waking(const void* channel) override;

 private:
  uint64_t resource_of(const void* p) const;
  uint64_t lock_resource(const vm::Mutex& m) const;
  uint64_t channel_resource(const void* channel) const;
  void user_access(size_t thread, vm::AddressSpace& as, const replay::UserAccess& a);

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
  uint64_t page_array_bytes_;  // the page descriptors at physical address 0
  bool probing_ = false;       // our own pmap lookups: not the thread's
  // Locks whose data are reported (Mutex::data_reported) taken in this
  // segment and not yet released: a write if still held at its end.
  std::vector<const vm::Mutex*> held_;
};

}  // namespace vmsim
