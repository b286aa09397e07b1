// The steps a run took, in the trace's schedule syntax (spec §4), as JSON:
// what explore writes into failure traces and shard reports.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "run/taken_step.hpp"

namespace vmsim::explore {

nlohmann::ordered_json step_to_json(const TakenStep& step);
nlohmann::ordered_json schedule_to_json(const std::vector<TakenStep>& steps);
// Nullopt when `j` is not an array of steps in the spec's syntax.
std::optional<std::vector<TakenStep>> schedule_from_json(const nlohmann::ordered_json& j);

}  // namespace vmsim::explore
