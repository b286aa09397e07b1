// The trace's own schedule (spec §4): its steps (engine/sched/schedule_steps)
// over the image's steps and policy.
#pragma once

#include "image/trace_image_reader.hpp"
#include "replay/chooser.hpp"
#include "sched/schedule_steps.hpp"

namespace replay {

class TraceSchedule final : public Chooser {
 public:
  // `table` holds room for the image's steps and outlives this.
  TraceSchedule(const image::ImageReader& img, Step* table, const ThreadProgress& progress);

  size_t choose(const SchedulePoint& sp) override { return steps_.choose(sp, progress_); }
  bool failed() const { return steps_.failed(); }
  const StepError& error() const { return steps_.error(); }

 private:
  ScheduleSteps steps_;
  const ThreadProgress& progress_;
};

}  // namespace replay
