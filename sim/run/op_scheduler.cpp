#include "run/op_scheduler.hpp"

#include <algorithm>

namespace vmsim {
namespace {

bool contains(const std::vector<size_t>& v, size_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// splitmix64: a small, well-mixed PRNG whose sequence is fixed by the seed
// on every machine (the random policy must replay byte for byte).
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

long thread_index(const Trace& trace, const std::string& name) {
  for (size_t i = 0; i < trace.threads.size(); ++i)
    if (trace.threads[i].name == name) return static_cast<long>(i);
  return -1;
}

TraceScheduler::TraceScheduler(const Trace& trace, const ThreadStatus& status)
    : trace_(trace), status_(status), rng_(trace.schedule.seed) {}

size_t TraceScheduler::fail(size_t step, std::string message) {
  error_ = std::move(message);
  error_step_ = step;
  return 0;
}

size_t TraceScheduler::choose(const SchedulingPoint& sp) {
  if (step_active_) {
    if (std::optional<size_t> t = continue_step(sp)) return *t;
    if (error_) return 0;
    step_active_ = false;
  }
  if (next_step_ < trace_.schedule.steps.size()) return *start_step(sp);
  return from_policy(sp);
}

// Spec §4: {T} runs until T's ops are done or it blocks; {T, ops n} for n
// whole ops or until it blocks; {T, until P, count n} until T reaches P for
// the n-th time, and it must reach it within the op it is in.
std::optional<size_t> TraceScheduler::continue_step(const SchedulingPoint& sp) {
  const ScheduleStep& s = trace_.schedule.steps[next_step_ - 1];
  const size_t index = next_step_ - 1;
  if (sp.kind == PointKind::kBlocked || sp.kind == PointKind::kDone) {
    if (s.kind == ScheduleStep::Kind::kUntil) {
      fail(index, "thread \"" + s.thread + "\" " +
                      (sp.kind == PointKind::kBlocked ? "blocked" : "finished its ops") +
                      " before reaching " + s.point);
    }
    return std::nullopt;
  }
  switch (s.kind) {
    case ScheduleStep::Kind::kRun:
      return step_thread_;
    case ScheduleStep::Kind::kOps:
      if (sp.kind == PointKind::kOpEnd && --ops_left_ == 0) return std::nullopt;
      return step_thread_;
    case ScheduleStep::Kind::kUntil:
      if (sp.kind == PointKind::kOpEnd) {
        fail(index, "thread \"" + s.thread + "\" ended its op without reaching " + s.point +
                        (point_hits_ == 0 ? std::string()
                                          : " " + std::to_string(s.count) + " times (reached it " +
                                                std::to_string(point_hits_) + ")"));
        return std::nullopt;
      }
      if (sp.kind == PointKind::kYield && s.point == sp.point && ++point_hits_ == s.count)
        return std::nullopt;
      return step_thread_;
  }
  return std::nullopt;
}

std::optional<size_t> TraceScheduler::start_step(const SchedulingPoint& sp) {
  const size_t index = next_step_++;
  const ScheduleStep& s = trace_.schedule.steps[index];
  const long t = thread_index(trace_, s.thread);
  if (t < 0) return fail(index, "no thread named \"" + s.thread + "\"");
  const size_t thread = static_cast<size_t>(t);
  if (!contains(sp.enabled, thread))
    return fail(index, "thread \"" + s.thread + "\" " + status_.why_not_runnable(thread));
  if (s.kind == ScheduleStep::Kind::kOps && s.ops > status_.ops_left(thread))
    return fail(index, "thread \"" + s.thread + "\" has " +
                           std::to_string(status_.ops_left(thread)) +
                           " ops left, the step asks for " + std::to_string(s.ops));
  step_active_ = true;
  step_thread_ = thread;
  ops_left_ = s.ops;
  point_hits_ = 0;
  return thread;
}

// Round robin: whole ops, one per thread in declaration order. Sequential:
// the first runnable thread runs to its end. Random: any runnable thread at
// every point, from the seeded PRNG.
size_t TraceScheduler::from_policy(const SchedulingPoint& sp) {
  const bool can_go_on = sp.current >= 0 && contains(sp.enabled, static_cast<size_t>(sp.current));
  switch (trace_.schedule.policy) {
    case Policy::kRandom:
      return sp.enabled[next_random(rng_) % sp.enabled.size()];
    case Policy::kSequential:
      return can_go_on ? static_cast<size_t>(sp.current) : sp.enabled.front();
    case Policy::kRoundRobin:
      break;
  }
  if (can_go_on && sp.kind == PointKind::kYield) return static_cast<size_t>(sp.current);
  const size_t n = trace_.threads.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t t = (rr_next_ + i) % n;
    if (!contains(sp.enabled, t)) continue;
    rr_next_ = (t + 1) % n;
    return t;
  }
  return sp.enabled.front();
}

}  // namespace vmsim
