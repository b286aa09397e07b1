// Replays one trace: every op runs in the VM core over the emulated machine
// and in the reference model, and their outcomes must agree (spec §6).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "run/run_report.hpp"
#include "run/schedule_control.hpp"
#include "trace/trace.hpp"

namespace vmsim {

enum class AuditMode { kOff, kEnd, kEveryOp };

struct RunOptions {
  AuditMode audit = AuditMode::kEnd;
  // Compare with the reference model. Off, only the trace's own assertions
  // are checked (for speed: benchmarks, very long traces).
  bool oracle = true;
  // When set, the controller chooses the thread at every scheduling point
  // and the trace's own schedule is ignored (vmsim explore).
  ScheduleController* controller = nullptr;
  // Core mutation switches (vm::Mutation bits, `vmsim --bug NAME`): each
  // turns off one protection of the core. 0 in every normal run.
  uint64_t mutations = 0;
  // Slab sanity (`--sanity`): slab objects read-only outside USE().
  bool slab_sanity = false;
  // Where to write the run as Chrome trace events (`--timeline FILE`); empty: none.
  std::string timeline;
  // The trace already compiled (compile_trace), for a caller that runs one
  // trace many times (vmsim explore); null: each run compiles it.
  std::shared_ptr<const std::vector<uint8_t>> image;
};

// A trace that cannot be run (exit 2), or a failure of vmsim itself (exit 3).
struct RunError {
  int exit_code = 2;
  std::string message;
};

std::variant<RunReport, RunError> run_trace(const Trace& trace, const RunOptions& options);

}  // namespace vmsim
