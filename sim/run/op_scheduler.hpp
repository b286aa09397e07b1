// Decides which thread runs each next op, from the trace's schedule steps and
// then its policy (spec §4). Ops run whole: a thread switch happens only
// between ops. Records the steps actually taken, in the trace's own step
// syntax, so that pasting them into the trace replays the same run.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "trace/trace.hpp"

namespace vmsim {

// One step of the schedule a run took, in the trace's step syntax (spec §4):
// `{thread, ops}` when the thread was switched away at an op boundary or
// finished, `{thread, until, count}` when it was stopped at a yield point,
// `{thread}` when it blocked.
struct TakenStep {
  enum class Kind { kOps, kUntil, kRun };
  Kind kind = Kind::kOps;
  std::string thread;
  uint64_t ops = 0;    // kOps
  std::string point;   // kUntil
  uint64_t count = 1;  // kUntil
};

class OpScheduler {
 public:
  explicit OpScheduler(const Trace& trace);

  // The thread to run one op next, or nullopt when all are finished. On a
  // step the trace cannot take (its thread has finished, or has fewer ops
  // left than it asks for) returns nullopt and sets `error`.
  std::optional<size_t> next(std::string* error);

  // A thread whose process a fork creates waits until the fork has run.
  void hold(size_t thread) { waiting_[thread] = true; }
  void release(size_t thread) { waiting_[thread] = false; }
  // The thread's process exited: it runs no more ops.
  void end(size_t thread);
  // A thread that has ops left but waits for its process (nullopt if none).
  std::optional<size_t> stuck_thread() const;

  // Position of the op the chosen thread runs next.
  size_t next_op_of(size_t thread) const { return next_op_[thread]; }
  // Index of the step next() refused, after it set an error.
  size_t failed_step() const { return failed_step_; }

  const std::vector<TakenStep>& taken() const { return taken_; }

 private:
  bool finished(size_t t) const { return next_op_[t] >= trace_.threads[t].ops.size(); }
  bool runnable(size_t t) const { return !finished(t) && !waiting_[t]; }
  size_t remaining(size_t t) const { return trace_.threads[t].ops.size() - next_op_[t]; }
  std::optional<size_t> from_steps(std::string* error);
  std::optional<size_t> from_policy();
  size_t record(size_t t);

  const Trace& trace_;
  std::vector<size_t> next_op_;  // per thread: index of its next op
  std::vector<bool> waiting_;    // per thread: its process does not exist yet
  size_t step_ = 0;              // next schedule step to start
  bool step_active_ = false;     // a step is being taken
  size_t step_thread_ = 0;
  uint64_t step_left_ = 0;  // ops the active step still runs
  size_t rr_next_ = 0;      // round-robin: where the next search starts
  size_t failed_step_ = 0;  // the step next() refused, when it set an error
  std::vector<TakenStep> taken_;
};

// Index of the thread named `name`, or -1.
long thread_index(const Trace& trace, const std::string& name);

}  // namespace vmsim
