// The scheduler a trace asks for (spec §4): its schedule steps first, then
// its policy for whatever remains. It is one ScheduleController among
// others (an explorer is another): the run loop asks it at every yield
// point, op end and block who runs next. The semantics live in the core
// (core/sched/schedule_steps), shared with the bare-metal port; this adapter
// feeds it the trace and words its errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "run/schedule_control.hpp"
#include "run/taken_step.hpp"
#include "sched/schedule_steps.hpp"
#include "trace/trace.hpp"

namespace vmsim {

// What the scheduler may ask the run loop about a thread.
class ThreadStatus {
 public:
  virtual ~ThreadStatus() = default;
  // Ops the thread has not finished (one it is stopped inside counts).
  virtual size_t ops_left(size_t thread) const = 0;
  // Why the thread cannot run now, for an error message ("has finished all
  // its ops", "is blocked on ...", ...).
  virtual std::string why_not_runnable(size_t thread) const = 0;
};

class TraceScheduler final : public ScheduleController, private replay::ThreadProgress {
 public:
  TraceScheduler(const Trace& trace, const ThreadStatus& status);

  size_t choose(const SchedulingPoint& sp) override;

  // After choose() returned, a step the trace cannot take: the message and
  // the step's index (an input error, exit 2).
  const std::optional<std::string>& error() const { return error_; }
  size_t error_step() const { return error_step_; }

 private:
  // replay::ThreadProgress
  vm::u64 ops_left(size_t thread) const override { return status_.ops_left(thread); }
  std::string describe(const replay::StepError& e) const;

  const Trace& trace_;
  const ThreadStatus& status_;
  std::vector<replay::Step> steps_;  // the trace's steps, names resolved
  replay::ScheduleSteps core_;
  std::optional<std::string> error_;
  size_t error_step_ = 0;
};

// Index of the thread named `name`, or -1.
long thread_index(const Trace& trace, const std::string& name);

// The core's kind of scheduling point for the simulator's.
replay::PointKind to_core_kind(PointKind kind);

}  // namespace vmsim
