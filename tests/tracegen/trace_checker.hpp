// A test-side checker of generated traces against the trace format
// (spec vmsim-trace/1), written independently of the generator: allowed and
// required keys per op, value forms, natural alignment, labels bound before
// use in the same thread and unique, files named by the ops that use them,
// and schedules that name runnable threads. Forks, exits and pokes must be
// valid in every run order: exit only ends a process's only thread, no
// schedule step names a thread of a forked process, and a poke only names a
// process that surely exists and has not exited when it runs.
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
