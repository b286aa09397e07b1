// One scheduling point of a run as the bounded search sees it, and the
// sleep sets of partial-order reduction (docs/explore.md).
#pragma once

#include <cstddef>
#include <vector>

#include "run/schedule_control.hpp"

namespace vmsim::explore {

// A thread whose next segment need not be tried here: an equivalent run
// (this segment moved earlier, past independent ones) was explored already.
// The thread wakes when a segment that conflicts with `footprint` runs.
struct SleepEntry {
  size_t thread = 0;
  Footprint footprint;  // of the segment the thread would run next
};
using SleepSet = std::vector<SleepEntry>;  // at most one entry per thread

bool asleep(const SleepSet& sleep, size_t thread);
// Adds the entries of `more` whose thread is not in `into` yet.
void add_sleepers(SleepSet& into, const SleepSet& more);
// Wakes every sleeper whose next segment conflicts with `ran`.
void wake_dependent(SleepSet& sleep, const Footprint& ran);

struct ChoiceNode {
  std::vector<size_t> enabled;  // ascending
  long current = -1;
  // Choosing another thread than `current` here is a preemption.
  bool preemptible = false;
  size_t chosen = 0;  // the child the current path goes through
  SleepSet sleep;     // on arrival
  SleepSet done;      // children explored so far, with their first segment
  // No child but the chosen one needs exploring: the run got here only
  // through a sleeping thread, so the whole subtree is covered elsewhere.
  bool covered = false;

  bool free_choice(size_t thread) const {
    return !preemptible || static_cast<long>(thread) == current;
  }
  bool explored(size_t thread) const { return asleep(done, thread); }
};

}  // namespace vmsim::explore
