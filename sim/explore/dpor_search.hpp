// Source-DPOR (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014) with sleep
// sets, under a preemption bound (docs/explore.md).
#pragma once

#include "explore/search.hpp"

namespace vmsim::explore {

ExploreReport dpor_search(const RunOnce& run_once, const ExploreOptions& options,
                          const Progress& progress);

}  // namespace vmsim::explore
