// The kernel's JSON result line (spec §6, docs/result-format.md) read back
// into a RunReport, so that `vmsim port run` prints it exactly as `vmsim
// replay` prints its own results.
#pragma once

#include <optional>
#include <string>

#include "run/run_report.hpp"

namespace vmsim::port {

// nullopt, with `error` set, when the line is not such an object.
std::optional<RunReport> report_from_json(const std::string& line, const std::string& file,
                                          std::string* error);

}  // namespace vmsim::port
