#include "explore/search.hpp"

#include "explore/bounded_search.hpp"
#include "explore/dpor_search.hpp"
#include "explore/pct_search.hpp"

namespace vmsim::explore {

ExploreReport explore(const RunOnce& run_once, size_t threads, const ExploreOptions& options,
                      const Progress& progress) {
  if (options.strategy == Strategy::kPct) return pct_search(run_once, threads, options, progress);
  if (options.reduction == Reduction::kDpor) return dpor_search(run_once, options, progress);
  return bounded_search(run_once, options, progress);
}

}  // namespace vmsim::explore
