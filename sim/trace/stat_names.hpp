// The statistics a trace may name in `expect.stats` (the counters a run
// reports, see docs/result-format.md).
#pragma once

#include <string_view>

namespace vmsim {

bool is_known_stat(std::string_view name);

}  // namespace vmsim
