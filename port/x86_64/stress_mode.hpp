// The SMP stress mode: instead of replaying a trace one op at a time, every
// CPU runs one thread of a built-in workload at once on the same core
// (stress_config.hpp), then the workload's own final-state check, the audit,
// the digest and the leak check; the result is the usual JSON line.
#pragma once

#include "console.hpp"
#include "stress_config.hpp"

namespace port {

// Starts the other CPUs itself. Never returns to a trace replay.
ExitCode run_stress(const StressConfig& config);

}  // namespace port
