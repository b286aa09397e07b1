// Writes down the schedule a run takes, as steps in the trace's own syntax
// (spec §4), so that pasting them into the trace's "schedule" replays the
// run byte for byte. A step ends where the run switched threads:
//   at an op boundary or the thread's end   → {thread, ops: n}
//   at a yield point inside an op           → {thread, ops: n}, {thread, until: P, count: c}
//   because the thread blocked              → {thread, ops: n}, {thread}
// where c counts P since the step's last op boundary (an `until` step must
// be reached inside the op it starts in).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "run/schedule_control.hpp"
#include "run/taken_step.hpp"

namespace vmsim {

class ScheduleRecorder {
 public:
  // `thread` ran one segment that ended at a scheduling point of `kind`
  // (`point` names the yield point for kYield).
  void segment(size_t thread, const std::string& name, PointKind kind, const char* point);
  // The scheduler chose `thread` next: a different thread closes the step.
  void chosen(size_t thread);
  // The run is over.
  void close();

  const std::vector<TakenStep>& steps() const { return steps_; }
  // Index the step being taken now will have (for violations).
  long current_step() const { return static_cast<long>(steps_.size()); }

 private:
  bool open_ = false;
  size_t thread_ = 0;
  std::string name_;
  uint64_t ops_ = 0;                      // op ends in the open step
  std::map<std::string, uint64_t> hits_;  // yield points since the last op end
  PointKind last_ = PointKind::kStart;    // how the last segment ended
  std::string last_point_;
  std::vector<TakenStep> steps_;
};

}  // namespace vmsim
