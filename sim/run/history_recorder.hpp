// The run's history for the linearizability check (spec §6): every op's
// invocation and response on a logical clock, with what the core did; at
// the end, the history and the final digest must be those of some
// sequential order of the ops on the reference model that keeps real-time
// order.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "model/model.hpp"
#include "replay/replay.hpp"
#include "run/linearizability.hpp"
#include "run/op_outcome.hpp"
#include "trace/trace.hpp"

namespace vmsim {

class HistoryRecorder final : public replay::Observer {
 public:
  HistoryRecorder(const Trace& trace, replay::Replay& replay);

  // replay::Observer
  void op_begin(size_t thread, size_t op, uint64_t addr) override;
  void op_end(size_t thread, size_t op, const replay::Outcome& outcome) override;
  void op_passed(size_t thread, size_t op, const replay::Outcome& outcome) override;
  void fault_begin(size_t thread, vm::AddressSpace& as, uint64_t addr, bool write) override;
  void fault_end(size_t thread, const replay::UserAccess& a, uint64_t addr, vm::FaultResult r,
                 bool others_ran) override;
  void finished(const char* digest) override;

  // The search gave up (its budget ran out): the run has no verdict (exit 3).
  const std::optional<std::string>& inconclusive() const { return inconclusive_; }

 private:
  // A touch in flight that others interleaved with, inside a fault: {steps
  // done before that fault, time the fault began, time it ended}. The
  // history then has one part of the touch per stretch.
  struct TouchSplit {
    uint64_t steps, before, after;
  };
  struct InFlight {
    HistoryOp op;
    uint64_t fault_began = 0;
    std::vector<TouchSplit> splits;
  };

  OpOutcome model_op(Model& model, const HistoryOp& h) const;
  OpOutcome model_oom(Model& model, const HistoryOp& h) const;
  void add_touch_parts(std::vector<TouchSplit>& splits, const HistoryOp& whole);

  const Trace& trace_;
  replay::Replay& replay_;
  Model initial_;                    // the files and first processes, when the threads start
  std::vector<InFlight> in_flight_;  // by thread
  uint64_t clock_ = 0;
  std::vector<HistoryOp> history_;
  std::deque<Op> touch_parts_;  // the ops the history's touch parts point to
  std::optional<std::string> inconclusive_;
};

}  // namespace vmsim
