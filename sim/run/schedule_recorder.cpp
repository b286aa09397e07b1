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
      kind == PointKind::kYield ? replay::yield_point_named(point) : vm::YieldPoint::kCount);
}

void ScheduleRecorder::taken(const replay::LoggedStep& step) {
  TakenStep s;
  s.thread = names_[step.thread];
  switch (step.kind) {
    case replay::StepKind::kOps:
      s.kind = TakenStep::Kind::kOps;
      s.ops = step.ops;
      break;
    case replay::StepKind::kUntil:
      s.kind = TakenStep::Kind::kUntil;
      s.point = step.point < vm::YieldPoint::kCount ? replay::yield_point_name(step.point) : "?";
      s.count = step.count;
      break;
    case replay::StepKind::kRun:
      s.kind = TakenStep::Kind::kRun;
      break;
  }
  steps_.push_back(std::move(s));
}

}  // namespace vmsim
