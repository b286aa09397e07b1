// The explorer's view of a trace: one run under a controller, and the
// standalone trace files that replay a failing run.
#pragma once

#include <string>
#include <vector>

#include "explore/explore_types.hpp"
#include "run/runner.hpp"
#include "trace/trace.hpp"

namespace vmsim::explore {

// Runs `trace` with `options` (its controller replaced by the given one).
// The trace must outlive the result.
RunOnce trace_run_once(const Trace& trace, RunOptions options);

// Writes one trace per failure into `out_dir` (created if missing):
// the file `trace_file` with its "schedule" replaced by the failing run's
// and its "expect" by that violation, named `NAME.KIND.json` after the
// trace's name. Returns the paths, in the order of report.failures; on an
// error returns what was written and sets `error` (exit code 2 when the
// trace's name or a kind cannot name a file, 3 when writing fails).
struct WriteError {
  int exit_code = 0;  // 0: no error
  std::string message;
};
std::vector<std::string> write_failure_traces(const std::string& trace_file,
                                              const ExploreReport& report,
                                              const std::string& out_dir, WriteError* error);

}  // namespace vmsim::explore
