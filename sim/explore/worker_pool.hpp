// `vmsim explore --jobs N`: the search split into N worker processes, each
// exploring one shard, their reports merged. fork() keeps every worker's
// machine as separate as two vmsim invocations would be.
#pragma once

#include <functional>

#include "explore/explore_types.hpp"

namespace vmsim::explore {

// Runs `search` for shards `outer.index + outer.count * j` of
// `outer.count * jobs`, j < jobs, one process each, and merges them into the
// report of shard `outer`.
ExploreReport explore_in_workers(const std::function<ExploreReport(Shard)>& search, size_t jobs,
                                 Shard outer);

}  // namespace vmsim::explore
