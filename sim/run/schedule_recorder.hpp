// Writes down the schedule a run takes, as steps in the trace's own syntax
// (spec §4), so that pasting them into the trace's "schedule" replays the
// run byte for byte. The rules (core/sched/schedule_log.hpp) are shared with
// the bare-metal port; this adapter gives the steps their names.
#pragma once

#include <string>
#include <vector>

#include "run/schedule_control.hpp"
#include "run/taken_step.hpp"
#include "sched/schedule_log.hpp"

namespace vmsim {

class ScheduleRecorder final : private replay::StepSink {
 public:
  ScheduleRecorder() : log_(*this) {}
  ScheduleRecorder(const ScheduleRecorder&) = delete;
  ScheduleRecorder& operator=(const ScheduleRecorder&) = delete;

  // `thread` ran one segment that ended at a scheduling point of `kind`
  // (`point` names the yield point for kYield).
  void segment(size_t thread, const std::string& name, PointKind kind, const char* point);
  // The scheduler chose `thread` next: a different thread closes the step.
  void chosen(size_t thread) { log_.chosen(thread); }
  // The run is over.
  void close() { log_.close(); }

  const std::vector<TakenStep>& steps() const { return steps_; }
  // Index the step being taken now will have (for violations).
  long current_step() const { return static_cast<long>(steps_.size()); }

 private:
  // replay::StepSink
  void taken(const replay::LoggedStep& step) override;

  replay::ScheduleLog log_;
  std::vector<std::string> names_;  // by thread index, as segment() saw them
  std::vector<TakenStep> steps_;
};

}  // namespace vmsim
