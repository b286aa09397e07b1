// The pct strategy of search.hpp.
#pragma once

#include "explore/search.hpp"

namespace vmsim::explore {

ExploreReport pct_search(const RunOnce& run_once, size_t threads, const ExploreOptions& options,
                         const Progress& progress);

}  // namespace vmsim::explore
