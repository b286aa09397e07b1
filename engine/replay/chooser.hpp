// Who picks the thread that runs at each scheduling point: the trace's own
// schedule (TraceSchedule) or, in the simulator, an explorer.
#pragma once

#include "sched/schedule_point.hpp"

namespace replay {

class Chooser {
 public:
  // One of sp.enabled.
  virtual size_t choose(const SchedulePoint& sp) = 0;
  // `thread` ran the segment chosen last; called before the next choose().
  virtual void segment_done(size_t thread) { (void)thread; }

 protected:
  ~Chooser() = default;
};

}  // namespace replay
