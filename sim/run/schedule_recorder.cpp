#include "run/schedule_recorder.hpp"

#include "run/trace_scheduler.hpp"
#include "sched/yield_point_named.hpp"

namespace vmsim {

void ScheduleRecorder::segment(size_t thread, const std::string& name, PointKind kind,
                               const char* point) {
  if (names_.size() <= thread) names_.resize(thread + 1);
  names_[thread] = name;
  log_.segment(
      thread, to_core_kind(kind),
      kind == PointKind::kYield ? vm::sched::yield_point_named(point) : vm::YieldPoint::kCount);
}

void ScheduleRecorder::taken(const vm::sched::LoggedStep& step) {
  TakenStep s;
  s.thread = names_[step.thread];
  switch (step.kind) {
    case vm::sched::StepKind::kOps:
      s.kind = TakenStep::Kind::kOps;
      s.ops = step.ops;
      break;
    case vm::sched::StepKind::kUntil:
      s.kind = TakenStep::Kind::kUntil;
      s.point = step.point < vm::YieldPoint::kCount ? vm::yield_point_name(step.point) : "?";
      s.count = step.count;
      break;
    case vm::sched::StepKind::kRun:
      s.kind = TakenStep::Kind::kRun;
      break;
  }
  steps_.push_back(std::move(s));
}

}  // namespace vmsim
