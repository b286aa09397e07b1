// The bounded strategy of search.hpp.
#pragma once

#include "explore/search.hpp"

namespace vmsim::explore {

ExploreReport bounded_search(const RunOnce& run_once, const ExploreOptions& options,
                             const Progress& progress);

}  // namespace vmsim::explore
