#include "sched/schedule_steps.hpp"

namespace replay {

u64 next_random(u64& state) {
  u64 z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

ScheduleSteps::ScheduleSteps(const Step* steps, size_t step_count, size_t thread_count,
                             Policy policy, u64 seed)
    : steps_(steps),
      step_count_(step_count),
      thread_count_(thread_count),
      policy_(policy),
      rng_(seed) {}

size_t ScheduleSteps::fail(StepErrorKind kind, size_t step) {
  error_.kind = kind;
  error_.step = step;
  error_.thread = step_thread_;
  return 0;
}

size_t ScheduleSteps::choose(const SchedulePoint& sp, const ThreadProgress& progress) {
  if (failed()) return 0;
  if (step_active_) {
    const long t = continue_step(sp);
    if (t != kNoThread) return static_cast<size_t>(t);
    if (failed()) return 0;
    step_active_ = false;
  }
  if (next_step_ < step_count_) return start_step(sp, progress);
  return from_policy(sp);
}

// Spec §4: {T} runs until T's ops are done or it blocks; {T, ops n} for n
// whole ops or until it blocks; {T, until P, count n} until T reaches P for
// the n-th time, and it must reach it within the op it is in.
long ScheduleSteps::continue_step(const SchedulePoint& sp) {
  const size_t index = next_step_ - 1;
  const Step& s = steps_[index];
  const long thread = static_cast<long>(step_thread_);
  if (sp.kind == PointKind::kBlocked || sp.kind == PointKind::kDone) {
    if (s.kind == StepKind::kUntil)
      fail(sp.kind == PointKind::kBlocked ? StepErrorKind::kUntilBlocked
                                          : StepErrorKind::kUntilFinished,
           index);
    return kNoThread;
  }
  switch (s.kind) {
    case StepKind::kRun:
      return thread;
    case StepKind::kOps:
      if (sp.kind == PointKind::kOpEnd && --ops_left_ == 0) return kNoThread;
      return thread;
    case StepKind::kUntil:
      if (sp.kind == PointKind::kOpEnd) {
        fail(StepErrorKind::kUntilOpEnded, index);
        error_.hits = point_hits_;
        return kNoThread;
      }
      if (sp.kind == PointKind::kYield && s.point == sp.point && ++point_hits_ == s.count)
        return kNoThread;
      return thread;
  }
  return kNoThread;
}

size_t ScheduleSteps::start_step(const SchedulePoint& sp, const ThreadProgress& progress) {
  const size_t index = next_step_++;
  const Step& s = steps_[index];
  if (s.thread < 0 || static_cast<size_t>(s.thread) >= thread_count_)
    return fail(StepErrorKind::kNoSuchThread, index);
  const size_t thread = static_cast<size_t>(s.thread);
  step_thread_ = thread;
  if (!sp.is_enabled(thread)) return fail(StepErrorKind::kNotRunnable, index);
  if (s.kind == StepKind::kOps && s.ops > progress.ops_left(thread)) {
    fail(StepErrorKind::kTooFewOps, index);
    error_.ops_left = progress.ops_left(thread);
    return 0;
  }
  step_active_ = true;
  ops_left_ = s.ops;
  point_hits_ = 0;
  return thread;
}

// Round robin: whole ops, one per thread in declaration order. Sequential:
// the first runnable thread runs to its end. Random: any runnable thread at
// every point, from the seeded PRNG.
size_t ScheduleSteps::from_policy(const SchedulePoint& sp) {
  const bool can_go_on = sp.current >= 0 && sp.is_enabled(static_cast<size_t>(sp.current));
  switch (policy_) {
    case Policy::kRandom:
      return sp.enabled[next_random(rng_) % sp.enabled_count];
    case Policy::kSequential:
      return can_go_on ? static_cast<size_t>(sp.current) : sp.enabled[0];
    case Policy::kRoundRobin:
      break;
  }
  if (can_go_on && sp.kind == PointKind::kYield) return static_cast<size_t>(sp.current);
  const size_t n = thread_count_;
  for (size_t i = 0; i < n; ++i) {
    const size_t t = (rr_next_ + i) % n;
    if (!sp.is_enabled(t)) continue;
    rr_next_ = (t + 1) % n;
    return t;
  }
  return sp.enabled[0];
}

}  // namespace replay
