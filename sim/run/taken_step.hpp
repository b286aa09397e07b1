// One step of the schedule a run took, in the trace's own step syntax
// (spec §4), so that pasting a run's steps into the trace replays it.
#pragma once

#include <cstdint>
#include <string>

namespace vmsim {

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

}  // namespace vmsim
