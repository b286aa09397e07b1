#include "run/trace_scheduler.hpp"

#include "sched/yield_point_named.hpp"

namespace vmsim {
namespace {

replay::Policy to_core_policy(Policy p) {
  switch (p) {
    case Policy::kSequential:
      return replay::Policy::kSequential;
    case Policy::kRandom:
      return replay::Policy::kRandom;
    case Policy::kRoundRobin:
      break;
  }
  return replay::Policy::kRoundRobin;
}

std::vector<replay::Step> core_steps(const Trace& trace) {
  std::vector<replay::Step> steps;
  for (const ScheduleStep& s : trace.schedule.steps) {
    replay::Step c;
    c.kind = s.kind == ScheduleStep::Kind::kOps     ? replay::StepKind::kOps
             : s.kind == ScheduleStep::Kind::kUntil ? replay::StepKind::kUntil
                                                    : replay::StepKind::kRun;
    c.thread = thread_index(trace, s.thread);
    c.ops = s.ops;
    c.point = replay::yield_point_named(s.point.c_str());
    c.count = s.count;
    steps.push_back(c);
  }
  return steps;
}

}  // namespace

long thread_index(const Trace& trace, const std::string& name) {
  for (size_t i = 0; i < trace.threads.size(); ++i)
    if (trace.threads[i].name == name) return static_cast<long>(i);
  return -1;
}

replay::PointKind to_core_kind(PointKind kind) {
  switch (kind) {
    case PointKind::kStart:
      return replay::PointKind::kStart;
    case PointKind::kYield:
      return replay::PointKind::kYield;
    case PointKind::kOpEnd:
      return replay::PointKind::kOpEnd;
    case PointKind::kBlocked:
      return replay::PointKind::kBlocked;
    case PointKind::kDone:
      return replay::PointKind::kDone;
  }
  return replay::PointKind::kStart;
}

TraceScheduler::TraceScheduler(const Trace& trace, const ThreadStatus& status)
    : trace_(trace),
      status_(status),
      steps_(core_steps(trace)),
      core_(steps_.data(), steps_.size(), trace.threads.size(),
            to_core_policy(trace.schedule.policy), trace.schedule.seed) {}

size_t TraceScheduler::choose(const SchedulingPoint& sp) {
  replay::SchedulePoint p;
  p.kind = to_core_kind(sp.kind);
  p.current = sp.current;
  p.point =
      sp.kind == PointKind::kYield ? replay::yield_point_named(sp.point) : vm::YieldPoint::kCount;
  p.enabled = sp.enabled.data();
  p.enabled_count = sp.enabled.size();
  const size_t next = core_.choose(p, *this);
  // Worded at once: why a thread cannot run is only true now.
  if (core_.failed() && !error_) {
    error_ = describe(core_.error());
    error_step_ = core_.error().step;
  }
  return next;
}

// Spec §4: the step index and why (the CLI prefixes file, line and path).
std::string TraceScheduler::describe(const replay::StepError& e) const {
  using replay::StepErrorKind;
  const ScheduleStep& s = trace_.schedule.steps[e.step];
  const std::string who = "thread \"" + s.thread + "\" ";
  switch (e.kind) {
    case StepErrorKind::kNoSuchThread:
      return "no thread named \"" + s.thread + "\"";
    case StepErrorKind::kNotRunnable:
      return who + status_.why_not_runnable(e.thread);
    case StepErrorKind::kTooFewOps:
      return who + "has " + std::to_string(e.ops_left) + " ops left, the step asks for " +
             std::to_string(s.ops);
    case StepErrorKind::kUntilBlocked:
      return who + "blocked before reaching " + s.point;
    case StepErrorKind::kUntilFinished:
      return who + "finished its ops before reaching " + s.point;
    case StepErrorKind::kUntilOpEnded: {
      std::string m = who + "ended its op without reaching " + s.point;
      if (e.hits != 0) {
        m += ' ';
        m += std::to_string(s.count);
        m += " times (reached it ";
        m += std::to_string(e.hits);
        m += ')';
      }
      return m;
    }
    case StepErrorKind::kNone:
      break;
  }
  return who + "cannot take this step";
}

}  // namespace vmsim
