#include "sched/schedule_log.hpp"

namespace replay {

void ScheduleLog::clear_hits() {
  for (u64& h : hits_) h = 0;
}

void ScheduleLog::emit(const LoggedStep& step) {
  ++steps_taken_;
  sink_.taken(step);
}

void ScheduleLog::segment(size_t thread, PointKind kind, YieldPoint point) {
  if (!open_ || thread != thread_) {
    close();
    open_ = true;
    thread_ = thread;
  }
  last_ = kind;
  switch (kind) {
    case PointKind::kOpEnd:
    case PointKind::kDone:
      ++ops_;
      clear_hits();
      break;
    case PointKind::kYield:
      // An unknown point (kCount) has its own slot, as a name of its own would.
      last_point_ = point <= YieldPoint::kCount ? point : YieldPoint::kCount;
      ++hits_[static_cast<size_t>(last_point_)];
      break;
    case PointKind::kBlocked:
    case PointKind::kStart:
      break;
  }
}

void ScheduleLog::chosen(size_t thread) {
  if (open_ && thread != thread_) close();
}

void ScheduleLog::close() {
  if (!open_) return;
  open_ = false;
  if (ops_ > 0) emit(LoggedStep{StepKind::kOps, thread_, ops_, YieldPoint::kCount, 1});
  if (last_ == PointKind::kYield)
    emit(LoggedStep{StepKind::kUntil, thread_, 0, last_point_,
                    hits_[static_cast<size_t>(last_point_)]});
  if (last_ == PointKind::kBlocked)
    emit(LoggedStep{StepKind::kRun, thread_, 0, YieldPoint::kCount, 1});
  ops_ = 0;
  clear_hits();
}

}  // namespace replay
