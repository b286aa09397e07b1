// The scheduler a trace asks for (spec §4): its schedule steps first, then its
// policy for whatever remains. The run asks it at every scheduling point who
// runs next. The replay engine (engine/replay/trace_schedule) drives this
// one interpreter on both machines, so that a schedule means the same on both.
#pragma once

#include "lib/types.hpp"
#include "sched/schedule_point.hpp"

namespace replay {

enum class Policy : u8 { kRoundRobin, kSequential, kRandom };

enum class StepKind : u8 {
  kRun,    // {thread}: until its ops are done or it blocks
  kOps,    // {thread, ops}: n whole ops, or until it blocks
  kUntil,  // {thread, until, count}: until it reaches `point` the count-th time
};

struct Step {
  StepKind kind = StepKind::kRun;
  long thread = kNoThread;  // kNoThread: the trace names no such thread
  u64 ops = 0;              // kOps
  // kUntil; YieldPoint::kCount for a name that is no yield point.
  YieldPoint point = YieldPoint::kCount;
  u64 count = 1;  // kUntil
};

// A step the trace cannot take (an input error). The caller words it, since
// it knows the names (engine/replay/replay.cpp refuse_step has the texts).
enum class StepErrorKind : u8 {
  kNone,
  kNoSuchThread,   // the step names no thread
  kNotRunnable,    // the step's thread cannot run (finished, blocked, not forked)
  kTooFewOps,      // an `ops` step asks for more ops than the thread has left
  kUntilBlocked,   // an `until` step's thread blocked before reaching the point
  kUntilFinished,  // ... finished its ops before reaching it
  kUntilOpEnded,   // ... ended its op without reaching it `count` times
};

struct StepError {
  StepErrorKind kind = StepErrorKind::kNone;
  size_t step = 0;    // index into the steps
  size_t thread = 0;  // the step's thread (not for kNoSuchThread)
  u64 ops_left = 0;   // kTooFewOps: what the thread had left
  u64 hits = 0;       // kUntilOpEnded: times it reached the point in that op
};

// What the scheduler asks the run about a thread.
class ThreadProgress {
 public:
  // Ops the thread has not finished (one it is stopped inside counts).
  virtual u64 ops_left(size_t thread) const = 0;

 protected:
  ~ThreadProgress() = default;
};

class ScheduleSteps {
 public:
  // `steps` stays owned by the caller and must outlive this.
  ScheduleSteps(const Step* steps, size_t step_count, size_t thread_count, Policy policy, u64 seed);

  // One of sp.enabled. After a step error it returns 0 and error() says why;
  // the run must stop asking.
  size_t choose(const SchedulePoint& sp, const ThreadProgress& progress);

  bool failed() const { return error_.kind != StepErrorKind::kNone; }
  const StepError& error() const { return error_; }

 private:
  // The active step's thread, or kNoThread when the step is over.
  long continue_step(const SchedulePoint& sp);
  size_t start_step(const SchedulePoint& sp, const ThreadProgress& progress);
  size_t from_policy(const SchedulePoint& sp);
  size_t fail(StepErrorKind kind, size_t step);

  const Step* steps_;
  size_t step_count_;
  size_t thread_count_;
  Policy policy_;
  size_t next_step_ = 0;      // the next step to start
  bool step_active_ = false;  // steps_[next_step_ - 1] is being taken
  size_t step_thread_ = 0;
  u64 ops_left_ = 0;    // kOps: op ends the active step still waits for
  u64 point_hits_ = 0;  // kUntil: times the thread reached the point
  size_t rr_next_ = 0;  // round robin: where the next search starts
  u64 rng_ = 0;         // random policy state
  StepError error_;
};

// splitmix64: a small, well-mixed PRNG whose sequence is fixed by the seed on
// every machine (the random policy must replay byte for byte).
u64 next_random(u64& state);

}  // namespace replay
