// A synthetic concurrent program for testing the explorer without the VM:
// threads of ops, each op a list of steps over a few shared integer cells.
// A step's footprint names the cells it reads and writes; a yield point
// separates the steps of an op. The run ends with a check of the final
// cells, which is where a test plants its bug.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "explore/explore_types.hpp"

namespace vmsim::explore::testing {

struct Cells {
  std::vector<long> shared = std::vector<long>(8, 0);
  std::vector<std::vector<long>> local;  // per thread registers
};

struct FakeStep {
  std::function<void(Cells&, size_t thread)> effect;
  Footprint footprint;
};
using FakeOp = std::vector<FakeStep>;  // steps separated by yield points

struct FakeThread {
  std::string name;
  std::vector<FakeOp> ops;
};

struct FakeProgram {
  std::vector<FakeThread> threads;
  // Violation kind of the final state, or "" when it is right.
  std::function<std::string(const Cells&)> check = [](const Cells&) { return ""; };

  RunSummary run(ScheduleController& controller) const;
  std::vector<TakenStep> schedule_of(const std::vector<std::pair<size_t, size_t>>& segments) const;
  RunOnce run_once() const {
    return [this](ScheduleController& c) { return run(c); };
  }
};

// Building blocks: a step that copies cell `c` into the thread's register,
// one that writes register + 1 back, one that writes a constant.
FakeStep load(size_t cell);
FakeStep store_incremented(size_t cell);
FakeStep store(size_t cell, long value);

// Two threads that each increment cell 0 in one op of two steps (load,
// store): the lost update needs a preemption between the steps.
FakeProgram lost_update(size_t extra_independent_threads = 0, size_t ops_each = 1);

}  // namespace vmsim::explore::testing
