// The scheduler a trace asks for (spec §4): its schedule steps first, then
// its policy for whatever remains. It is one ScheduleController among
// others (an explorer is another): the run loop asks it at every yield
// point, op end and block who runs next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "run/schedule_control.hpp"
#include "run/taken_step.hpp"
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

class TraceScheduler final : public ScheduleController {
 public:
  TraceScheduler(const Trace& trace, const ThreadStatus& status);

  size_t choose(const SchedulingPoint& sp) override;

  // After choose() returned, a step the trace cannot take: the message and
  // the step's index (an input error, exit 2).
  const std::optional<std::string>& error() const { return error_; }
  size_t error_step() const { return error_step_; }

 private:
  // The active step's thread may go on (nullopt: the step is over).
  std::optional<size_t> continue_step(const SchedulingPoint& sp);
  std::optional<size_t> start_step(const SchedulingPoint& sp);
  size_t from_policy(const SchedulingPoint& sp);
  size_t fail(size_t step, std::string message);

  const Trace& trace_;
  const ThreadStatus& status_;
  size_t next_step_ = 0;      // the next step to start
  bool step_active_ = false;  // steps_[next_step_ - 1] is being taken
  size_t step_thread_ = 0;
  uint64_t ops_left_ = 0;    // kOps: op ends the active step still waits for
  uint64_t point_hits_ = 0;  // kUntil: times the thread reached the point
  size_t rr_next_ = 0;       // round-robin: where the next search starts
  uint64_t rng_ = 0;         // random policy state
  std::optional<std::string> error_;
  size_t error_step_ = 0;
};

// Index of the thread named `name`, or -1.
long thread_index(const Trace& trace, const std::string& name);

}  // namespace vmsim
