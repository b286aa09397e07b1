#include "trace_schedule.hpp"

#include "console.hpp"
#include "memory.hpp"
#include "sched/yield_point_named.hpp"

namespace port {
namespace {

using namespace image;

replay::Step* core_steps(const ImageReader& img) {
  const uint64_t n = img.count(kSteps);
  auto* steps = boot_alloc_array<replay::Step>(n + 1);
  for (uint64_t i = 0; i < n; ++i) {
    const ImageStep& s = img.step(i);
    replay::Step& c = steps[i];
    c.kind = s.kind == ImageStepKind::kOps     ? replay::StepKind::kOps
             : s.kind == ImageStepKind::kUntil ? replay::StepKind::kUntil
                                               : replay::StepKind::kRun;
    c.thread = s.thread < img.count(kThreads) ? static_cast<long>(s.thread) : replay::kNoThread;
    c.ops = s.ops;
    c.point = s.kind == ImageStepKind::kUntil ? replay::yield_point_named(img.str(s.point))
                                              : vm::YieldPoint::kCount;
    c.count = s.count;
  }
  return steps;
}

replay::Policy core_policy(ImagePolicy p) {
  switch (p) {
    case ImagePolicy::kSequential:
      return replay::Policy::kSequential;
    case ImagePolicy::kRandom:
      return replay::Policy::kRandom;
    case ImagePolicy::kRoundRobin:
      break;
  }
  return replay::Policy::kRoundRobin;
}

}  // namespace

TraceSchedule::TraceSchedule(const ImageReader& img)
    : step_table_(core_steps(img)),
      steps_(step_table_, img.count(kSteps), img.count(kThreads), core_policy(img.header().policy),
             img.header().seed),
      log_(*this),
      taken_(boot_alloc_array<replay::LoggedStep>(kMaxTaken)) {}

void TraceSchedule::taken(const replay::LoggedStep& step) {
  if (taken_count_ == kMaxTaken) kpanic("the run took more schedule steps than the port keeps");
  taken_[taken_count_++] = step;
}

}  // namespace port
