#include "run/schedule_recorder.hpp"

namespace vmsim {

void ScheduleRecorder::segment(size_t thread, const std::string& name, PointKind kind,
                               const char* point) {
  if (!open_ || thread != thread_) {
    close();
    open_ = true;
    thread_ = thread;
    name_ = name;
  }
  last_ = kind;
  switch (kind) {
    case PointKind::kOpEnd:
    case PointKind::kDone:
      ++ops_;
      hits_.clear();
      break;
    case PointKind::kYield:
      last_point_ = point;
      ++hits_[last_point_];
      break;
    case PointKind::kBlocked:
    case PointKind::kStart:
      break;
  }
}

void ScheduleRecorder::chosen(size_t thread) {
  if (open_ && thread != thread_) close();
}

void ScheduleRecorder::close() {
  if (!open_) return;
  open_ = false;
  if (ops_ > 0) steps_.push_back(TakenStep{TakenStep::Kind::kOps, name_, ops_, {}, 1});
  if (last_ == PointKind::kYield)
    steps_.push_back(TakenStep{TakenStep::Kind::kUntil, name_, 0, last_point_, hits_[last_point_]});
  if (last_ == PointKind::kBlocked)
    steps_.push_back(TakenStep{TakenStep::Kind::kRun, name_, 0, {}, 1});
  ops_ = 0;
  hits_.clear();
}

}  // namespace vmsim
