// Turns a loaded, validated trace into the binary image the bare-metal port
// replays (layout: port/image/trace_image.hpp). The loader has already
// checked everything; the compiler only resolves names into table indices.
#pragma once

#include <cstdint>
#include <vector>

#include "trace/trace.hpp"

namespace vmsim {

std::vector<uint8_t> compile_trace(const Trace& trace);

}  // namespace vmsim
