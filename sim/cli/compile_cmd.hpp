// `vmsim compile TRACE -o FILE`: the trace, validated by the loader, as the
// binary image the bare-metal port boots with (-initrd).
#pragma once

#include <string>

namespace vmsim {

// Returns the exit code: 0 written, 2 unusable input, 3 cannot write FILE.
int cmd_compile(const std::string& trace_file, const std::string& out_file);

}  // namespace vmsim
