// Replays a compiled trace on the bare-metal kernel: the replay engine
// (engine/replay) with the port as its machine. Every trace thread runs on
// its own kernel thread, on the physical CPU that hosts its trace `cpu`, one
// at a time; user accesses run in ring 3 on the real MMU. Prints the result
// line and returns the exit code.
#pragma once

#include "console.hpp"
#include "image/trace_image_reader.hpp"

namespace port {

ExitCode replay_trace(const image::ImageReader& image);

}  // namespace port
