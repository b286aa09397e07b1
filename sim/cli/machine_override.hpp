// `--memory SIZE`, `--swap SIZE` and `--compressor SIZE`: replay a trace on
// a machine with other RAM, swap or compressor than it declares, to check that pressure changes
// nothing a trace observes (docs/pressure.md). Sizes are written as in traces (spec §1): "1048576",
// "0x100000", "1MiB".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "trace/trace.hpp"

namespace vmsim {

struct MachineOverride {
  std::string memory;  // empty: the trace's own
  std::string swap;
  std::string compressor;
};

// Applies `o` to `trace`; an error message (exit 2) naming the option and
// what was expected when a size is malformed or out of range.
std::optional<std::string> apply_machine_override(const MachineOverride& o, Trace& trace);

}  // namespace vmsim
