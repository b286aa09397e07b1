// `vmsim linux`: a trace replayed on the host's Linux kernel, one real
// process per trace process (docs/linux.md). Every op is a real system call
// or a real load or store in an agent process (linux/tracee.hpp); the final
// state is read back from /proc into the spec's digest. The reference model
// runs alongside: it says where an mmap without `fixed` goes (the spec's
// placement, made real with MAP_FIXED_NOREPLACE), and with `compare` every
// op's outcome on Linux must be the model's.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "run/run_report.hpp"
#include "run/runner.hpp"
#include "trace/trace.hpp"

namespace vmsim {

struct LinuxRunOptions {
  // Every op's outcome must be the reference model's (the simulator's, for
  // a trace the simulator passes); a difference is a `linux-mismatch`.
  bool compare = false;
  // Where the private directory of the trace's files is made: empty means
  // $TMPDIR, else /dev/shm (tmpfs) when it exists, else /tmp.
  std::string tmp_base;
};

// Why the trace cannot run on Linux (exit 2), naming the op, key or
// schedule step; nullopt when it can.
std::optional<RunError> check_linux_supported(const Trace& trace);

// Runs it. The report's stats are those Linux can show (ops, signals);
// `notes` gets what the run could not check (expect.stats Linux has no
// counter for), one line each.
std::variant<RunReport, RunError> run_on_linux(const Trace& trace, const LinuxRunOptions& options,
                                               std::vector<std::string>* notes);

}  // namespace vmsim
