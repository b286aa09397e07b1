// Stateless model checking over the thread interleavings of a program: every
// run replays from the start under a controller (docs/explore.md).
//
// bounded: iterative preemption bounding (CHESS). Level k holds the runs
// with exactly k preemptions; each is run once, so the first failure found
// has the fewest preemptions. Within a level, a depth-first search branches
// at every free choice (op end, block, thread end) with sleep sets; every
// preempting choice is deferred to level k+1 as a work item.
//
// pct: one run per seed with random thread priorities and depth-1 priority
// change points (Burckhardt et al., PCT).
#pragma once

#include <functional>

#include "explore/explore_types.hpp"

namespace vmsim::explore {

// Called after every run, with the report so far and the current level.
using Progress = std::function<void(const ExploreReport& report, size_t level)>;

// Explores the shard `options.shard` of the program `run_once` with
// `threads` threads. Deterministic: equal inputs give equal reports, and the
// shard reports of any partition merge into the report of the whole.
ExploreReport explore(const RunOnce& run_once, size_t threads, const ExploreOptions& options,
                      const Progress& progress = {});

}  // namespace vmsim::explore
