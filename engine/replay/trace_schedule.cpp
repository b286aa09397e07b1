#include "replay/trace_schedule.hpp"

#include "sched/yield_point_named.hpp"

namespace replay {
namespace {

using namespace image;

Step* fill_steps(const ImageReader& img, Step* steps) {
  for (u64 i = 0; i < img.count(kSteps); ++i) {
    const ImageStep& s = img.step(i);
    Step& c = steps[i];
    c.kind = s.kind == ImageStepKind::kOps     ? StepKind::kOps
             : s.kind == ImageStepKind::kUntil ? StepKind::kUntil
                                               : StepKind::kRun;
    c.thread = static_cast<long>(s.thread);  // the image reader checked it
    c.ops = s.ops;
    c.point =
        s.kind == ImageStepKind::kUntil ? yield_point_named(img.str(s.point)) : YieldPoint::kCount;
    c.count = s.count;
  }
  return steps;
}

Policy policy_of(ImagePolicy p) {
  switch (p) {
    case ImagePolicy::kSequential:
      return Policy::kSequential;
    case ImagePolicy::kRandom:
      return Policy::kRandom;
    case ImagePolicy::kRoundRobin:
      break;
  }
  return Policy::kRoundRobin;
}

}  // namespace

TraceSchedule::TraceSchedule(const ImageReader& img, Step* table, const ThreadProgress& progress)
    : steps_(fill_steps(img, table), img.count(kSteps), img.count(kThreads),
             policy_of(img.header().policy), img.header().seed),
      progress_(progress) {}

}  // namespace replay
