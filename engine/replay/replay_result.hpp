// Where the replay engine puts what a run found: violations, unmet
// expectations, the schedule steps taken, and an input the run cannot go on
// with. The simulator collects them into its report; the port prints them
// as the result line.
#pragma once

#include "lib/types.hpp"
#include "sched/schedule_log.hpp"

namespace replay {

struct Violation {
  const char* kind = nullptr;  // spec §6 kind: a string with static storage
  const char* message = nullptr;
  long thread = -1;  // thread index, -1: none
  long op = -1;      // op index in the thread, -1: none
  long step = -1;    // index of the schedule step being taken
};

// Where an input error is (the machine words the place: the trace's file,
// line and JSON path, or the image's record).
struct InputPlace {
  enum class Kind : vm::u8 { kNone, kOp, kStep };
  Kind kind = Kind::kNone;
  size_t thread = 0;  // kOp
  size_t op = 0;      // kOp
  size_t step = 0;    // kStep

  static InputPlace op_of(size_t thread, size_t op) {
    InputPlace p;
    p.kind = Kind::kOp;
    p.thread = thread;
    p.op = op;
    return p;
  }
};

class ResultSink {
 public:
  virtual void violation(const Violation& v) = 0;
  virtual void unmet(const char* message) = 0;
  virtual void step_taken(const LoggedStep& step) = 0;
  // The trace cannot be run as written (exit 2); the run stops.
  virtual void input_error(const InputPlace& where, const char* message) = 0;
  // A failure of the replay itself (exit 3); the run stops.
  virtual void internal_error(const char* message) = 0;

 protected:
  ~ResultSink() = default;
};

}  // namespace replay
