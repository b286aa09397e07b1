#include "trace_schedule.hpp"

#include "console.hpp"
#include "memory.hpp"
#include "sched/yield_point_named.hpp"

namespace port {
namespace {

using namespace vmsim::image;

vm::sched::Step* core_steps(const ImageReader& img) {
  const uint64_t n = img.count(kSteps);
  auto* steps = boot_alloc_array<vm::sched::Step>(n + 1);
  for (uint64_t i = 0; i < n; ++i) {
    const ImageStep& s = img.step(i);
    vm::sched::Step& c = steps[i];
    c.kind = s.kind == ImageStepKind::kOps     ? vm::sched::StepKind::kOps
             : s.kind == ImageStepKind::kUntil ? vm::sched::StepKind::kUntil
                                               : vm::sched::StepKind::kRun;
    c.thread = s.thread < img.count(kThreads) ? static_cast<long>(s.thread) : vm::sched::kNoThread;
    c.ops = s.ops;
    c.point = s.kind == ImageStepKind::kUntil ? vm::sched::yield_point_named(img.str(s.point))
                                              : vm::YieldPoint::kCount;
    c.count = s.count;
  }
  return steps;
}

vm::sched::Policy core_policy(ImagePolicy p) {
  switch (p) {
    case ImagePolicy::kSequential:
      return vm::sched::Policy::kSequential;
    case ImagePolicy::kRandom:
      return vm::sched::Policy::kRandom;
    case ImagePolicy::kRoundRobin:
      break;
  }
  return vm::sched::Policy::kRoundRobin;
}

}  // namespace

TraceSchedule::TraceSchedule(const ImageReader& img)
    : step_table_(core_steps(img)),
      steps_(step_table_, img.count(kSteps), img.count(kThreads), core_policy(img.header().policy),
             img.header().seed),
      log_(*this),
      taken_(boot_alloc_array<vm::sched::LoggedStep>(kMaxTaken)) {}

void TraceSchedule::taken(const vm::sched::LoggedStep& step) {
  if (taken_count_ == kMaxTaken) kpanic("the run took more schedule steps than the port keeps");
  taken_[taken_count_++] = step;
}

}  // namespace port
