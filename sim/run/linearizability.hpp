// The oracle for runs whose ops overlap in time (spec §6): a run passes when
// every op's outcome and the final state are those of some sequential order
// of the ops, run in the reference model, that keeps real-time order (an op
// that responded before another was invoked stays before it).
//
// The search is Wing & Gong's with Lowe's memoization, as Porcupine and
// Knossos do it: depth first, it picks the next op among the *minimal* ones
// (no other remaining op responded before it was invoked), performs it on the
// model, prunes when the outcome differs from the core's, and never explores
// the same (set of ops done, model state) twice. Candidates are kept in one
// time-ordered list of invocations and responses from which a chosen op is
// unlinked and relinked on backtracking (dancing links), so finding them
// costs O(number that overlap).
//
// Cost: a sequential history (every op minimal alone) is one pass over one
// model, performed in place: no copy, no hash. Only where two or more ops
// are minimal does the search copy the model (once per candidate tried).
// The memo is filled lazily: a state is fingerprinted when every order from
// it failed, and when a later level has the same set of ops done as such a
// state; so a run that needs no backtracking hashes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/model.hpp"
#include "run/op_outcome.hpp"
#include "trace/trace.hpp"

namespace vmsim {

// One completed op of a run. Times come from one logical clock shared by all
// threads: `a` precedes `b` in real time iff a.responded < b.invoked; equal
// times mean they overlap.
// Invariants (check_linearizable throws std::invalid_argument otherwise):
// op != nullptr; invoked <= responded; along one thread, in op_index order,
// each op is invoked after the previous one responded.
struct HistoryOp {
  size_t thread = 0;    // index into Trace::threads
  size_t op_index = 0;  // index into that thread's ops
  const Op* op = nullptr;
  uint64_t invoked = 0;
  uint64_t responded = 0;
  OpOutcome core;     // what the core did
  uint64_t addr = 0;  // op->addr as the core resolved it at invocation (labels bound by then)
};

// Performs the op on the model and says what the model did (what the runner's
// model_op does, with the address taken from HistoryOp::addr). Must not keep
// references to the model: the search calls it on copies.
using ApplyOp = std::function<OpOutcome(Model&, const HistoryOp&)>;

struct LinearizabilityBudget {
  // Op applications the search may make beyond the one pass a sequential
  // history costs; past it the verdict is kInconclusive.
  uint64_t max_extra_steps = 1'000'000;
};

struct LinearizabilityStats {
  uint64_t steps = 0;            // op applications on the model
  uint64_t branch_points = 0;    // levels reached with two or more candidates
  uint64_t memo_hits = 0;        // of them, skipped as already explored
  uint64_t fingerprints = 0;     // model states hashed for the memo
  uint64_t complete_orders = 0;  // orders of all ops reached (final digest compared)
  size_t max_overlap = 0;        // most ops in flight at one time in the history
};

enum class Linearizability {
  kLinearizable,  // `order` is a witness
  kViolation,     // `mismatch` says why; `blamed` is the op, if one
  // The budget ran out first. vmsim cannot tell whether the run passes: the
  // runner reports it as an internal error (exit 3) with `message`, which
  // names the budget, so that a user can shorten the trace or reduce overlap.
  kInconclusive,
};

struct LinearizabilityResult {
  Linearizability verdict = Linearizability::kLinearizable;
  // kLinearizable: history indices in a sequential order that explains the
  // run. kViolation for the final state: the order that gave the example
  // digest. Otherwise empty.
  std::vector<size_t> order;
  // kViolation. For a mismatching op: compare_outcomes()'s mismatch at the
  // deepest partial order the search reached (for a sequential history,
  // exactly the runner's per-op message), with a note when other orders were
  // tried too. When every op fits but no order ends in the core's state:
  // state-mismatch, "final state digest X differs from the model's Y" (one
  // final state possible) or "... differs from every order the model allows;
  // e.g. Y" (several).
  std::optional<Mismatch> mismatch;
  std::optional<size_t> blamed;  // history index of the op the mismatch is about
  size_t depth = 0;              // ops ordered before the blamed one
  std::string message;           // kInconclusive: why, with the numbers
  LinearizabilityStats stats;
};

// `final_digest`: the core's final state digest (spec §7); nullopt compares no
// final state (a run cut short). `initial` is the model before the first op;
// it is copied, never changed.
LinearizabilityResult check_linearizable(const std::vector<HistoryOp>& history,
                                         const Model& initial, const ApplyOp& apply,
                                         const std::optional<std::string>& final_digest,
                                         const LinearizabilityBudget& budget = {});

}  // namespace vmsim
