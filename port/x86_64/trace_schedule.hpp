// The trace's schedule on the port: the core's step interpreter
// (core/sched/schedule_steps) over the image's steps and policy, and the
// core's log of the steps taken, kept here for the result JSON. The
// simulator's adapters (sim/run/trace_scheduler, schedule_recorder) drive the
// same two, so a schedule means the same and prints the same on both.
#pragma once

#include "image/trace_image_reader.hpp"
#include "sched/schedule_log.hpp"
#include "sched/schedule_steps.hpp"

namespace port {

class TraceSchedule final : private replay::StepSink {
 public:
  explicit TraceSchedule(const image::ImageReader& img);

  // Who runs next; see replay::ScheduleSteps::choose.
  size_t choose(const replay::SchedulePoint& sp, const replay::ThreadProgress& progress) {
    return steps_.choose(sp, progress);
  }
  bool failed() const { return steps_.failed(); }
  const replay::StepError& error() const { return steps_.error(); }

  replay::ScheduleLog& log() { return log_; }
  const replay::LoggedStep& taken(size_t i) const { return taken_[i]; }
  size_t taken_count() const { return taken_count_; }

 private:
  // replay::StepSink
  void taken(const replay::LoggedStep& step) override;

  replay::Step* step_table_;  // the image's steps, as the core reads them
  replay::ScheduleSteps steps_;
  replay::ScheduleLog log_;
  // The steps taken; more than fit would not fit the result line either.
  static constexpr size_t kMaxTaken = 32768;
  replay::LoggedStep* taken_;
  size_t taken_count_ = 0;
};

}  // namespace port
