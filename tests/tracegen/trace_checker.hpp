// A test-side checker of generated traces against the trace format
// (spec vmsim-trace/1), written independently of the generator: allowed and
// required keys per op, value forms, natural alignment, labels bound before
// use in the same thread and unique, and schedules that name runnable threads.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmsim::tracegen::testing {

// Every problem found, each naming its JSON path; empty when the trace is
// valid and follows the generator's own rules (no expectations, no value on
// reads, integer addresses below 2^53).
std::vector<std::string> check_generated_trace(const nlohmann::json& trace);

}  // namespace vmsim::tracegen::testing
