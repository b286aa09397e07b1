// `vmsim linux`: replays traces on the host's Linux kernel and reports them
// as `vmsim replay` does; `--compare` holds every op's outcome and the final
// digest to vmsim's (docs/linux.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace vmsim {

struct LinuxCmdOptions {
  std::vector<std::string> traces;
  bool compare = false;
  bool json = false;
  std::string tmp_dir;  // where the trace's files go (default: $TMPDIR, /dev/shm, /tmp)
  // A trace vmsim linux cannot run is reported on stderr as skipped, with
  // its reason, instead of failing the command (for suites over traces/).
  bool skip_refused = false;
};

// Adds `linux` to `app`; the returned subcommand is parsed() when chosen.
CLI::App* add_linux(CLI::App& app, LinuxCmdOptions* options);

// Runs it; returns the spec §6 exit code (the worst over the traces).
int cmd_linux(const LinuxCmdOptions& options);

}  // namespace vmsim
