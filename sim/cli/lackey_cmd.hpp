// `vmsim lackey LOG`: a valgrind lackey log replayed through the core as one
// process, with the misses of exact LRU and OPT beside the core's (spec §11,
// docs/lackey.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/machine_override.hpp"

namespace vmsim {

struct LackeyCmdOptions {
  std::string log;
  MachineOverride machine;  // empty: LackeyOptions' defaults
  uint64_t resident_limit = 0;
  bool json = false;
  bool progress = false;  // also when standard error is not a terminal
};

// Adds `lackey` to `app`; the returned subcommand is parsed() when chosen.
CLI::App* add_lackey(CLI::App& app, LackeyCmdOptions* options);

// Runs it; returns the spec §6 exit code.
int cmd_lackey(const LackeyCmdOptions& options, uint64_t mutations);

}  // namespace vmsim
