// Printing a run: one JSON object per trace on one line (spec §6), or a
// short text summary for people.
#pragma once

#include <string>

#include "run/run_report.hpp"

namespace vmsim {

std::string report_json(const RunReport& r);
std::string report_text(const RunReport& r);
// The stats of a run as the text summary prints them: "name value, ...".
std::string stats_text(const std::vector<std::pair<std::string, int64_t>>& stats);

}  // namespace vmsim
