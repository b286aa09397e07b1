// What `vmsim --version` prints; shard reports carry it so that a merge
// never joins the work of two different vmsim builds' formats.
#pragma once

namespace vmsim {

inline constexpr const char* kVersion =
    "vmsim 0.1 (trace format vmsim-trace/1, digest vmsim-digest/1)";

}  // namespace vmsim
