#include "explore/pct_search.hpp"

#include "explore/pct_controller.hpp"
#include "explore/search_budget.hpp"

namespace vmsim::explore {
namespace {

// Counts the scheduling points of the run that never switches but when it
// must: the length PCT draws its change points from.
class CountingController : public ScheduleController {
 public:
  size_t choose(const SchedulingPoint& sp) override {
    ++points;
    for (size_t t : sp.enabled)
      if (static_cast<long>(t) == sp.current) return t;
    return sp.enabled.front();
  }
  size_t points = 0;
};

}  // namespace

ExploreReport pct_search(const RunOnce& run_once, size_t threads, const ExploreOptions& options,
                         const Progress& progress) {
  ExploreReport report;
  report.strategy = Strategy::kPct;
  report.bound = options.depth;
  report.shard = options.shard;
  SearchBudget budget(options.max_runs, options.time_limit);
  CountingController counter;
  RunSummary calibration = run_once(counter);
  if (calibration.error_code != 0) {
    report.error_code = calibration.error_code;
    report.error = calibration.error;
    return report;
  }
  uint64_t runs = 0;
  for (uint64_t seed = options.shard.index; seed < options.seeds; seed += options.shard.count) {
    if (std::string why = budget.exhausted(runs); !why.empty()) {
      report.cut = why;
      break;
    }
    PctController controller(seed, threads, options.depth, counter.points);
    RunSummary run = run_once(controller);
    ++runs;
    if (run.error_code != 0) {
      report.error_code = run.error_code;
      report.error = run.error;
      break;
    }
    record_run(report, seed, run);
    if (progress) progress(report, seed);
    if (options.stop_on_first && run.violation()) {
      report.stopped_at = seed;
      break;
    }
  }
  return report;
}

}  // namespace vmsim::explore
