// The vocabulary of the schedule explorer (docs/explore.md): what one run
// yields, how a search is configured, and what a search found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "run/schedule_control.hpp"
#include "run/taken_step.hpp"

namespace vmsim::explore {

// What one run of the program under a controller produced.
struct RunSummary {
  // Violation kinds in the order the run found them; empty: the run passed.
  std::vector<std::string> kinds;
  std::string digest;  // empty after a core panic
  std::vector<TakenStep> schedule;
  // Nonzero when the program could not run at all (spec §6: 2 bad input,
  // 3 internal); the search stops and reports it.
  int error_code = 0;
  std::string error;

  bool violation() const { return !kinds.empty(); }
};

// Runs the program once from the start, steered by `controller`.
using RunOnce = std::function<RunSummary(ScheduleController& controller)>;

// An outcome as the explorer counts them: two runs with equal tuples are one
// distinct outcome.
struct Outcome {
  std::string result;  // "pass" | "violation"
  std::string kinds;   // violation kinds joined by ','
  std::string digest;
  auto operator<=>(const Outcome&) const = default;
};
Outcome outcome_of(const RunSummary& r);

enum class Strategy { kBounded, kPct };

// Partial-order reduction of the bounded search (docs/explore.md): none (the
// reference), sleep sets alone, or source-DPOR with sleep sets.
enum class Reduction { kNone, kSleepSets, kDpor };
const char* reduction_name(Reduction r);
std::optional<Reduction> reduction_from_name(const std::string& name);

// Which part of the search this process does: shard `index` of `count`.
struct Shard {
  size_t index = 0;
  size_t count = 1;
};

struct ExploreOptions {
  Strategy strategy = Strategy::kBounded;
  size_t bound = 2;                        // most preemptions per run (bounded)
  Reduction reduction = Reduction::kDpor;  // bounded
  uint64_t seeds = 100;                    // runs (pct)
  size_t depth = 3;                        // bug depth d: d-1 priority change points (pct)
  uint64_t max_runs = 0;                   // 0: no limit
  double time_limit = 0;                   // seconds; 0: no limit
  // Stop after the first bound (bounded) or seed (pct) that found a
  // violation; the bound is finished, so that results do not depend on the
  // partition.
  bool stop_on_first = true;
  Shard shard;
};

// The first failing run of one violation kind: "first" in the canonical order
// (fewest preemptions, then fewest schedule steps, then the schedule's text),
// so that every partition of the search picks the same one.
struct Failure {
  std::string kind;
  size_t level = 0;  // preemptions (bounded) or seed (pct)
  std::string digest;
  std::vector<TakenStep> schedule;
};

// What one level (bounded: runs with exactly `level` preemptions; pct: one
// seed) contributed.
struct LevelStats {
  uint64_t runs = 0;
  uint64_t violating_runs = 0;
};

struct ExploreReport {
  Strategy strategy = Strategy::kBounded;
  size_t bound = 0;
  Reduction reduction = Reduction::kDpor;
  Shard shard;
  std::map<size_t, LevelStats> levels;  // by level
  // Mazurkiewicz traces the runs belong to (HappensBefore::class_hash), each
  // with the first level it was seen at (bounded only).
  std::map<uint64_t, size_t> classes;
  // DPOR: branches queued, not run yet (for the progress line).
  size_t backtrack_queue = 0;
  std::map<Outcome, size_t> outcomes;       // distinct outcome -> first level it was seen
  std::map<std::string, Failure> failures;  // by kind
  // Why the search ended before it covered its whole space: "" (it did not),
  // "max-runs", "time-limit".
  std::string cut;
  // Bounded: whether runs with more preemptions than `bound` exist (the
  // search was exhaustive to the bound but not beyond it).
  bool beyond_bound = false;
  // The level at which stop_on_first stopped, if it did.
  std::optional<size_t> stopped_at;
  int error_code = 0;
  std::string error;

  uint64_t runs() const;
  uint64_t violating_runs() const;
};

// Canonical order of failing runs (see Failure).
bool failure_before(const Failure& a, const Failure& b);

// Adds one run to the report at `level`.
void record_run(ExploreReport& report, size_t level, const RunSummary& run);
// Adds the run's equivalence class.
void record_class(ExploreReport& report, size_t level, uint64_t class_hash);

// Joins shard reports into one: the result does not depend on how the work
// was split. Levels past the first failing level are dropped when the
// searches stopped on first failure.
ExploreReport merge_reports(const std::vector<ExploreReport>& shards);

}  // namespace vmsim::explore
