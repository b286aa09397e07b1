// An ExploreReport as JSON (`vmsim explore --json`, and the shard report
// that `vmsim explore --merge` reads back), and as text for people.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "explore/explore_types.hpp"

namespace vmsim::explore {

// `written`: the failure files, in the order of report.failures.
// `with_classes`: list the equivalence classes (shard reports), not only
// count them.
nlohmann::ordered_json report_to_json(const ExploreReport& report,
                                      const std::vector<std::string>& written = {},
                                      bool with_classes = false);
// Nullopt (with `error` set) when `j` is not a report of this format.
std::optional<ExploreReport> report_from_json(const nlohmann::ordered_json& j, std::string* error);

std::string report_text(const ExploreReport& report, const std::vector<std::string>& written);

// "complete", "complete to bound K", "stopped at first failure", "cut by
// max-runs", ...: how much of the space the search covered.
std::string coverage_of(const ExploreReport& report);

}  // namespace vmsim::explore
