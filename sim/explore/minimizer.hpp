// `vmsim minimize`: shrinks a failing trace while the same violation kind
// remains (docs/explore.md). Passes, repeated until none shrinks further:
//   1. the schedule: `until` steps become whole-op steps, steps are removed
//      (ddmin) and neighbouring steps of one thread merged;
//   2. the ops of each thread (ddmin), never removing an op that binds a
//      label (`as`) that a remaining op uses; the schedule's op counts follow;
//   3. whole threads (ddmin), with their schedule steps.
// Every candidate is replayed; one that is no longer a valid trace, or whose
// schedule cannot be taken, is rejected like one that passes.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vmsim::explore {

// Replays a candidate trace: its violation kinds (empty: it passed), or
// nullopt when it cannot be run.
using Replay =
    std::function<std::optional<std::vector<std::string>>(const nlohmann::ordered_json& trace)>;

struct MinimizeStats {
  size_t ops_before = 0, ops_after = 0;
  size_t steps_before = 0, steps_after = 0;
  size_t threads_before = 0, threads_after = 0;
  size_t runs = 0;  // candidates replayed
};

// `trace` has an explicit schedule (an array of steps) and fails with
// `kind`. Returns the smallest trace found, with
// "expect": {"result": "violation", "violation": kind}.
nlohmann::ordered_json minimize_trace(nlohmann::ordered_json trace, const std::string& kind,
                                      const Replay& replay, MinimizeStats* stats);

size_t count_ops(const nlohmann::ordered_json& trace);

}  // namespace vmsim::explore
