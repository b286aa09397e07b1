// Replays one trace: every op runs in the VM core over the emulated machine
// and in the reference model, and their outcomes must agree (spec §6).
#pragma once

#include <string>
#include <variant>

#include "run/run_report.hpp"
#include "trace/trace.hpp"

namespace vmsim {

enum class AuditMode { kOff, kEnd, kEveryOp };

struct RunOptions {
  AuditMode audit = AuditMode::kEnd;
  // Compare with the reference model. Off, only the trace's own assertions
  // are checked (for speed: benchmarks, very long traces).
  bool oracle = true;
};

// A trace that cannot be run (exit 2), or a failure of vmsim itself (exit 3).
struct RunError {
  int exit_code = 2;
  std::string message;
};

std::variant<RunReport, RunError> run_trace(const Trace& trace, const RunOptions& options);

// Whether this build runs every feature the trace uses; nullopt if it does,
// else an error naming the first unsupported one (exit 2).
std::optional<RunError> check_supported(const Trace& trace);

}  // namespace vmsim
