// Writes down the schedule a run takes, as steps in the trace's own syntax
// (spec §4), so that pasting them into the trace's "schedule" replays the run
// byte for byte. A step ends where the run switched threads:
//   at an op boundary or the thread's end   → {thread, ops: n}
//   at a yield point inside an op           → {thread, ops: n}, {thread, until: P, count: c}
//   because the thread blocked              → {thread, ops: n}, {thread}
// where c counts P since the step's last op boundary (an `until` step must be
// reached inside the op it starts in). The replay engine's, on both machines,
// so both print the same schedule for the same run.
#pragma once

#include "lib/types.hpp"
#include "sched/schedule_point.hpp"
#include "sched/schedule_steps.hpp"

namespace replay {

// One step taken: kOps (ops), kUntil (point, count) or kRun.
struct LoggedStep {
  StepKind kind = StepKind::kOps;
  size_t thread = 0;
  u64 ops = 0;
  YieldPoint point = YieldPoint::kCount;
  u64 count = 1;
};

// Where the log puts the steps it closes (the caller's storage).
class StepSink {
 public:
  virtual void taken(const LoggedStep& step) = 0;

 protected:
  ~StepSink() = default;
};

class ScheduleLog {
 public:
  explicit ScheduleLog(StepSink& sink) : sink_(sink) {}

  // `thread` ran one segment that ended at a scheduling point of `kind`
  // (`point` is the yield point for kYield).
  void segment(size_t thread, PointKind kind, YieldPoint point);
  // The scheduler chose `thread` next: a different thread closes the step.
  void chosen(size_t thread);
  // The run is over.
  void close();

  // Steps handed to the sink so far: the index the step being taken now will
  // have (violations name it).
  size_t steps_taken() const { return steps_taken_; }

 private:
  void emit(const LoggedStep& step);
  void clear_hits();

  StepSink& sink_;
  bool open_ = false;
  size_t thread_ = 0;
  u64 ops_ = 0;  // op ends in the open step
  // Times each yield point was reached since the last op end.
  u64 hits_[static_cast<size_t>(YieldPoint::kCount) + 1] = {};
  PointKind last_ = PointKind::kStart;  // how the last segment ended
  YieldPoint last_point_ = YieldPoint::kCount;
  size_t steps_taken_ = 0;
};

}  // namespace replay
